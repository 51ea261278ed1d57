import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Queue, Worker } from 'bullmq';
import { Writable } from 'node:stream';
import { parseConfig } from '@cronbundle/config';
import { type JobDefinition, slotsBetween } from '@cronbundle/core';
import { ExecutionStore } from '@cronbundle/executions';
import { createLogger } from '@cronbundle/observability';
import {
  QueueName,
  repeatStrategy,
  RunSchedulers,
  scheduledForOf,
  schedulerRev,
  type RunPayload,
} from '@cronbundle/queue';
import { RedisConnections, RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';
import { SchedulerModule } from './scheduler.module';

const EVERY_2S = '*/2 * * * * *';

async function startScheduler(
  prefix: string,
  instanceId: string,
  env: Record<string, string> = {},
): Promise<INestApplication> {
  const config = parseConfig('scheduler', {
    REDIS_URL: testRedisUrl(),
    CRONBUNDLE_PREFIX: prefix,
    INSTANCE_ID: instanceId,
    LEADER_LEASE_MS: '1500',
    SLOT_GRACE_MS: '1000',
    ...env,
  });
  const logger = createLogger({
    app: 'scheduler',
    instanceId,
    level: 'silent',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const moduleRef = await Test.createTestingModule({ imports: [SchedulerModule.forRoot(config, logger)] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('scheduler (in process, real Redis and BullMQ)', () => {
  const redis = connectTestRedis();
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const registry = new JobRegistry(redis, keys, { defaultTimezone: 'UTC' });
  const store = new ExecutionStore(redis, keys);
  let scheduler: INestApplication;
  let schedulers: RunSchedulers;

  beforeAll(async () => {
    scheduler = await startScheduler(prefix, 'sched-a');
    schedulers = scheduler.get(RunSchedulers);
  });
  afterAll(async () => {
    await scheduler?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const schedulerOf = async (id: string) => (await schedulers.list()).find((s) => s.id === id);

  it('reconciles creates, edits, disables and deletes into BullMQ job schedulers', async () => {
    await registry.create({ id: 'recon-a', name: 'a', schedule: { cron: '0 * * * *' } });
    await registry.create({ id: 'recon-off', name: 'off', enabled: false, schedule: { cron: '0 * * * *' } });
    await waitFor(() => schedulerOf('recon-a'), { what: 'job scheduler recon-a' });
    expect(await schedulerOf('recon-off')).toBeUndefined();

    const edited = await registry.update('recon-a', { schedule: { cron: '30 * * * *' } });
    await waitFor(async () => (await schedulerOf('recon-a'))?.rev === schedulerRev(edited), {
      what: 'the edit to reach BullMQ',
    });
    // The pending slot follows the new cron: the next slot is at minute 30.
    const next = (await schedulerOf('recon-a'))!.next!;
    expect(new Date(next).getUTCMinutes()).toBe(30);

    await registry.setEnabled('recon-a', false);
    await waitFor(async () => (await schedulerOf('recon-a')) === undefined, {
      what: 'disabled job to lose its scheduler',
    });
    await registry.setEnabled('recon-off', true);
    await waitFor(() => schedulerOf('recon-off'), { what: 'enabled job to get a scheduler' });
    await registry.delete('recon-off');
    await waitFor(async () => (await schedulerOf('recon-off')) === undefined, {
      what: 'deleted job to lose its scheduler',
    });
  });

  it('a full reconcile repairs a scheduler removed behind its back', async () => {
    await registry.create({ id: 'recon-repair', name: 'r', schedule: { cron: '0 3 * * *' } });
    await waitFor(() => schedulerOf('recon-repair'), { what: 'job scheduler recon-repair' });
    const queue = scheduler.get<Queue>(`BullQueue_${QueueName.Runs}`);
    await queue.removeJobScheduler('recon-repair');
    // A revision gap (an event nobody heard) makes the leader re-read everything.
    await redis.incr(keys.jobsRevision);
    await registry.update('recon-repair', { description: 'bump' });
    await waitFor(() => schedulerOf('recon-repair'), { what: 'the scheduler to be restored' });
  });

  it('accounts for every slot exactly once across a worker outage: ran, or missed with a reason', async () => {
    const connections = new RedisConnections({ url: testRedisUrl(), name: 'slot-test' });
    const ran: number[] = [];
    const startWorker = () =>
      new Worker<RunPayload>(
        QueueName.Runs,
        async (job) => {
          const slot = scheduledForOf(job.id, job.data)!;
          if (job.data.jobId !== 'slots') return;
          const { record, created } = await store.ensureSlot({
            jobId: 'slots',
            scheduledFor: slot,
            trigger: 'schedule',
          });
          if (!created) return;
          const started = await store.start(record.id, 'test-worker');
          if (started.kind !== 'started') return;
          await store.finish(record.id, started.attempt, { status: 'succeeded' });
          ran.push(slot);
        },
        { connection: connections.create('bullmq', 'w'), prefix, settings: { repeatStrategy }, concurrency: 5 },
      );
    let worker = startWorker();
    try {
      const def: JobDefinition = await registry.create({ id: 'slots', name: 'slots', schedule: { cron: EVERY_2S } });
      await waitFor(() => ran.length >= 2, { timeoutMs: 10_000, what: 'two slots to run' });
      await worker.close();
      // The outage lasts until three slots have come and gone with no worker to start them.
      const outageStart = Date.now();
      await waitFor(() => slotsBetween(def.schedule, outageStart, Date.now()).length >= 3, {
        timeoutMs: 10_000,
        intervalMs: 200,
        what: 'three slots to pass during the outage',
      });
      worker = startWorker();
      const ranBefore = ran.length;
      await waitFor(() => ran.length >= ranBefore + 3, {
        timeoutMs: 15_000,
        what: 'slots to run again after the outage',
      });
      await registry.setEnabled('slots', false);
      await worker.close();

      // Every slot from the first run to the last one is exactly one record: ran or missed.
      const first = Math.min(...ran);
      const last = Math.max(...ran);
      const expected = [first, ...slotsBetween(def.schedule, first, last)];
      const records = await Promise.all(expected.map((s) => store.slotExecutionId('slots', s)));
      expect(records.every(Boolean)).toBe(true);
      const statuses = await Promise.all(records.map(async (id) => (await store.get(id!))!.status));
      const missed = statuses.filter((s) => s === 'missed').length;
      expect(statuses.filter((s) => s === 'succeeded').length).toBe(new Set(ran).size);
      expect(ran.length).toBe(new Set(ran).size); // nothing ran twice
      expect(missed).toBeGreaterThanOrEqual(1); // the outage lost slots, and they are on record
      expect(missed + ran.length).toBe(expected.length);
      const missedRecord = await store.get(records[statuses.indexOf('missed')]!);
      expect(missedRecord!.reason).toMatch(/no worker started this slot/);
    } finally {
      await worker.close();
      await connections.closeAll();
    }
  });
});
