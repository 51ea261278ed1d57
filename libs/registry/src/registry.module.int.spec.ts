import { Test } from '@nestjs/testing';
import { ConfigModule, parseConfig } from '@cronbundle/config';
import { RedisModule } from '@cronbundle/redis';
import { testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';
import { JobRegistry, RegistryEvent } from './job-registry';
import { RegistryModule } from './registry.module';

describe('RegistryModule', () => {
  it('wires JobRegistry to the app Redis, prefix and options, with a working subscriber factory', async () => {
    const prefix = testPrefix();
    const config = parseConfig('api', { REDIS_URL: testRedisUrl(), CRONBUNDLE_PREFIX: prefix });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        RegistryModule.forRoot({ useValue: { defaultTimezone: 'Asia/Tokyo' } }),
      ],
    }).compile();
    const app = await moduleRef.init();
    try {
      const registry = app.get(JobRegistry);
      const events: RegistryEvent[] = [];
      const sub = await registry.subscribe((e) => events.push(e));
      const job = await registry.create({ id: 'wired', schedule: { cron: '@daily' } });
      expect(job.schedule.timezone).toBe('Asia/Tokyo');
      await waitFor(() => events.length === 1, { what: 'the created event' });
      expect(events[0]).toMatchObject({ type: 'created', id: 'wired' });
      await registry.delete('wired');
      await sub.close();
    } finally {
      await app.close();
    }
  });
});
