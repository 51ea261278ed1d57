import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bullmq';
import { Writable } from 'node:stream';
import { parseConfig } from '@cronbundle/config';
import { LeaderElector } from '@cronbundle/coordination';
import { createLogger } from '@cronbundle/observability';
import { QueueName, RunSchedulers, schedulerRev } from '@cronbundle/queue';
import { RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';
import { RECONCILE_CONCURRENCY } from './reconciler.service';
import { SchedulerModule } from './scheduler.module';

const JOBS = 300;

/**
 * A scheduler compiled but not started, with the real BullMQ queue's upsertJobScheduler wrapped
 * (calls pass through to BullMQ) so the test sees each write as it is issued.
 */
async function compileScheduler(prefix: string, onUpsert: (call: number) => void) {
  const config = parseConfig('scheduler', {
    REDIS_URL: testRedisUrl(),
    CRONBUNDLE_PREFIX: prefix,
    INSTANCE_ID: 'recon-pool',
    LEADER_LEASE_MS: '5000',
  });
  const logger = createLogger({
    app: 'scheduler',
    instanceId: 'recon-pool',
    level: 'silent',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const moduleRef = await Test.createTestingModule({ imports: [SchedulerModule.forRoot(config, logger)] }).compile();
  const queue = moduleRef.get<Queue>(`BullQueue_${QueueName.Runs}`);
  const stats = { calls: 0, inFlight: 0, peak: 0 };
  const original = queue.upsertJobScheduler.bind(queue);
  jest.spyOn(queue, 'upsertJobScheduler').mockImplementation(async (...args) => {
    stats.calls++;
    stats.peak = Math.max(stats.peak, ++stats.inFlight);
    onUpsert(stats.calls);
    try {
      return await original(...args);
    } finally {
      stats.inFlight--;
    }
  });
  const app: INestApplication = moduleRef.createNestApplication({ logger: false });
  return { app, stats, elector: moduleRef.get(LeaderElector), schedulers: moduleRef.get(RunSchedulers) };
}

describe('full reconcile with bounded concurrency (in process, real Redis and BullMQ)', () => {
  const redis = connectTestRedis();
  const keys = new RedisKeys(testPrefix());
  const apps: INestApplication[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await deletePrefix(redis, keys.prefix);
  });
  afterAll(() => redis.disconnect());

  const seed = async (prefix: string) => {
    const registry = new JobRegistry(redis, new RedisKeys(prefix), { defaultTimezone: 'UTC' });
    const { created } = await registry.createMany(
      Array.from({ length: JOBS }, (_, i) => ({ id: `pool-${i}`, schedule: { cron: `${i % 60} * * * *` } })),
    );
    return created;
  };

  it(`lands every definition, with more than one and at most ${RECONCILE_CONCURRENCY} upserts in flight`, async () => {
    const created = await seed(keys.prefix);
    const { app, stats, schedulers } = await compileScheduler(keys.prefix, () => undefined);
    apps.push(app);
    await app.init();
    await waitFor(async () => (await redis.get(keys.schedulerState)) ?? undefined, {
      timeoutMs: 20_000,
      what: 'the election reconcile to end with its fenced state write',
    });
    const landed = new Map((await schedulers.list()).map((s) => [s.id, s.rev]));
    expect(landed.size).toBe(JOBS);
    for (const def of created) expect(landed.get(def.id)).toBe(schedulerRev(def));
    expect(stats.calls).toBe(JOBS);
    expect(stats.peak).toBeGreaterThan(1);
    expect(stats.peak).toBeLessThanOrEqual(RECONCILE_CONCURRENCY);
  });

  it('issues no write after leadership is lost mid-way, and skips the fenced state write', async () => {
    await seed(keys.prefix);
    const LOSE_AT = 100;
    const ref: { elector?: LeaderElector } = {};
    let lost: Promise<void> | undefined;
    const compiled = await compileScheduler(keys.prefix, (call) => {
      // The 100th write is being issued: leadership ends now (stop() drops it synchronously).
      if (call === LOSE_AT) lost = ref.elector!.stop();
    });
    ref.elector = compiled.elector;
    apps.push(compiled.app);
    await compiled.app.init();
    await waitFor(() => (lost ? true : undefined), { timeoutMs: 20_000, what: 'leadership to be lost mid-reconcile' });
    await lost;
    // close() waits for the step in progress: the reconcile has ended (refused) when it returns.
    await compiled.app.close();
    apps.splice(0);
    expect(compiled.stats.calls).toBe(LOSE_AT);
    expect(compiled.stats.inFlight).toBe(0);
    // BullMQ's job-scheduler index (the queue is closed with the app).
    const landed = await redis.zcard(`${keys.bullPrefix}:${QueueName.Runs}:repeat`);
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThanOrEqual(LOSE_AT);
    expect(await redis.get(keys.schedulerState)).toBeNull();
  });

  it('the leader builds the dependants index of a registry written before it existed', async () => {
    const registry = new JobRegistry(redis, keys, { defaultTimezone: 'UTC' });
    await registry.create({ id: 'dep-root', schedule: { cron: '0 * * * *' } });
    await registry.create({ id: 'dep-child', schedule: { cron: '0 * * * *' }, dependsOn: ['dep-root'] });
    // As an older version left it: records without index entries, no completeness marker.
    await redis.del(keys.jobDependants('dep-root'), keys.jobDependantsIndexed);
    expect(await registry.dependantsIndexReady()).toBe(false);
    const { app } = await compileScheduler(keys.prefix, () => undefined);
    apps.push(app);
    await app.init();
    await waitFor(async () => (await registry.dependantsIndexReady()) || undefined, {
      timeoutMs: 20_000,
      what: 'the leader to rebuild the dependants index',
    });
    expect(await registry.dependantsOf('dep-root')).toEqual(['dep-child']);
  });
});
