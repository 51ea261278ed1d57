import { once } from 'node:events';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { ConfigModule, parseConfig } from '@cronbundle/config';
import { RedisKeys, RedisModule } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix, testRedisUrl, withDeadline } from '@cronbundle/testing';
import { CoordinationModule } from './coordination.module';
import { FencedWriter } from './fenced-writer';
import { LeaderElector } from './leader-elector';
import { RunLock } from './run-lock';

describe('CoordinationModule (Nest wiring, real Redis)', () => {
  it('provides the elector, writer and run lock, and releases the lease on app shutdown', async () => {
    const prefix = testPrefix();
    const config = parseConfig('scheduler', {
      REDIS_URL: testRedisUrl(),
      CRONBUNDLE_PREFIX: prefix,
      INSTANCE_ID: 'sched-1',
    });
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), RedisModule, CoordinationModule.forRoot({ leaseMs: 2000 })],
    }).compile();
    const app: INestApplicationContext = await moduleRef.init();
    const admin = connectTestRedis();
    const keys = new RedisKeys(prefix);
    try {
      const elector = app.get(LeaderElector);
      expect(elector.leaseMs).toBe(2000);
      const elected = withDeadline(once(elector, 'elected'), 5000, 'elected');
      await elector.start();
      await elected;
      expect((await elector.currentLeader())!.id).toBe('sched-1');
      await app.get(FencedWriter).setFenced(elector.assertLeader(), `${prefix}:probe`, 'ok');
      expect(await app.get(RunLock).acquire({ jobId: 'j', executionId: 'e', ttlMs: 1000 })).not.toBeNull();

      await app.close();
      expect(elector.isLeader).toBe(false);
      expect(await admin.exists(keys.leader)).toBe(0);
    } finally {
      await app.close();
      await deletePrefix(admin, prefix);
      await admin.quit();
    }
  });
});
