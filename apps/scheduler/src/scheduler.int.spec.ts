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

describe('slot accounting of a job disabled for a while (in process, real Redis and BullMQ)', () => {
  const redis = connectTestRedis();
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const registry = new JobRegistry(redis, keys, { defaultTimezone: 'UTC' });
  const store = new ExecutionStore(redis, keys);
  const connections = new RedisConnections({ url: testRedisUrl(), name: 'pause-test' });
  let scheduler: INestApplication;
  let worker: Worker | undefined;

  afterAll(async () => {
    await worker?.close();
    await scheduler?.close();
    await connections.closeAll();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('records no missed slots for the time the job was disabled', async () => {
    scheduler = await startScheduler(prefix, 'sched-p');
    const ran: number[] = [];
    worker = new Worker<RunPayload>(
      QueueName.Runs,
      async (job) => {
        const slot = scheduledForOf(job.id, job.data)!;
        const { record, created } = await store.ensureSlot({ jobId: 'pause', scheduledFor: slot, trigger: 'schedule' });
        if (!created) return;
        const started = await store.start(record.id, 'test-worker');
        if (started.kind !== 'started') return;
        await store.finish(record.id, started.attempt, { status: 'succeeded' });
        ran.push(slot);
      },
      { connection: connections.create('bullmq', 'w'), prefix, settings: { repeatStrategy }, concurrency: 5 },
    );
    const schedulers = scheduler.get(RunSchedulers);
    const def = await registry.create({ id: 'pause', name: 'p', schedule: { cron: EVERY_2S } });
    await waitFor(() => ran.length >= 2, { timeoutMs: 10_000, what: 'two slots to run' });

    await registry.setEnabled('pause', false);
    await waitFor(async () => !(await schedulers.list()).some((s) => s.id === 'pause'), {
      what: 'the disabled job to lose its scheduler',
    });
    const disabledAt = Date.now();
    // Off for three slots, and long enough that the sweep would have judged them (grace 1 s).
    await waitFor(() => slotsBetween(def.schedule, disabledAt, Date.now() - 1500).length >= 3, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: 'three slots to pass while disabled',
    });
    const enabledAt = Date.parse((await registry.setEnabled('pause', true)).updatedAt);
    const ranBefore = ran.length;
    await waitFor(() => ran.length >= ranBefore + 1, { timeoutMs: 10_000, what: 'a slot to run after enabling' });
    // The sweep has accounted for everything up to the re-enable (and past it).
    await waitFor(async () => Number(await redis.hget(keys.slotWatermarks, 'pause')) > enabledAt, {
      timeoutMs: 10_000,
      what: 'the slot sweep to pass the re-enable',
    });
    const { items } = await store.listForJob('pause', { limit: 200 });
    const whileOff = items.filter((e) => {
      const slot = Date.parse(e.scheduledFor!);
      return slot > disabledAt && slot < enabledAt;
    });
    expect(whileOff.map((e) => [e.scheduledFor, e.status, e.reason])).toEqual([]);
    await registry.setEnabled('pause', false);
  });
});

describe('slot accounting across a change of leader (in process, real Redis and BullMQ)', () => {
  const redis = connectTestRedis();
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const registry = new JobRegistry(redis, keys, { defaultTimezone: 'UTC' });
  const store = new ExecutionStore(redis, keys);
  const connections = new RedisConnections({ url: testRedisUrl(), name: 'handover-test' });
  const apps: INestApplication[] = [];
  const workers: Worker[] = [];
  const ran: number[] = [];

  const startWorker = () => {
    const worker = new Worker<RunPayload>(
      QueueName.Runs,
      async (job) => {
        const slot = scheduledForOf(job.id, job.data)!;
        const { record, created } = await store.ensureSlot({
          jobId: job.data.jobId,
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
    workers.push(worker);
    return worker;
  };

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(apps.map((a) => a.close()));
    await connections.closeAll();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('a new leader records slots missed under its predecessor even when later slots already ran', async () => {
    const leaderA = await startScheduler(prefix, 'sched-a');
    apps.push(leaderA);
    const workerA = startWorker();
    const def: JobDefinition = await registry.create({ id: 'handover', name: 'h', schedule: { cron: EVERY_2S } });
    await waitFor(() => ran.length >= 2, { timeoutMs: 10_000, what: 'two slots to run' });

    // No scheduler and no worker for three slots; then a worker alone runs the next slots
    // (BullMQ carries on without a scheduler), so the latest recorded slot is after the gap.
    await Promise.all([workerA.close(), leaderA.close()]);
    const outageStart = Date.now();
    await waitFor(() => slotsBetween(def.schedule, outageStart, Date.now()).length >= 3, {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'three slots to pass with nothing running',
    });
    startWorker();
    const ranBefore = ran.length;
    await waitFor(() => ran.length >= ranBefore + 2, { timeoutMs: 15_000, what: 'slots to run after the gap' });

    // The next leader must account for the gap, not start after the latest recorded slot.
    apps.push(await startScheduler(prefix, 'sched-b'));
    const first = Math.min(...ran);
    const last = Math.max(...ran);
    const expected = [first, ...slotsBetween(def.schedule, first, last)];
    const ids = await waitFor(
      async () => {
        const found = await Promise.all(expected.map((s) => store.slotExecutionId('handover', s)));
        return found.every(Boolean) ? (found as string[]) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'every slot between the first and last run to have a record' },
    );
    const statuses = await Promise.all(ids.map(async (id) => (await store.get(id))!.status));
    expect(statuses.filter((s) => s === 'missed').length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 'succeeded').length).toBe(new Set(ran).size);
    expect(ran.length).toBe(new Set(ran).size);
    // The new leader keeps its watermark in Redis for its own successor.
    await waitFor(async () => Number(await redis.hget(keys.slotWatermarks, 'handover')) >= last, {
      what: 'the persisted watermark to pass the last run',
    });
    await registry.setEnabled('handover', false);
  });
});

describe('graceful shutdown of a busy leader (in process, real Redis and BullMQ)', () => {
  const redis = connectTestRedis();
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const registry = new JobRegistry(redis, keys, { defaultTimezone: 'UTC' });
  const apps: INestApplication[] = [];
  const JOBS = 4000;

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('hands over at once in the middle of a long reconcile, not after it', async () => {
    await registry.createMany(
      Array.from({ length: JOBS }, (_, i) => ({ id: `busy-${i}`, name: 'b', schedule: { cron: '0 3 * * *' } })),
    );
    const a = await startScheduler(prefix, 'busy-a', { LEADER_LEASE_MS: '5000' });
    apps.push(a);
    const leader = async () => JSON.parse((await redis.get(keys.leader)) ?? '{}') as { owner?: string };
    await waitFor(async () => (await leader()).owner === 'busy-a', { what: 'busy-a to lead' });
    apps.push(await startScheduler(prefix, 'busy-b', { LEADER_LEASE_MS: '5000' }));
    // busy-a is applying its election reconcile (one upsert per job): some done, not all.
    const applied = await waitFor(async () => (await redis.zcard(`${prefix}:${QueueName.Runs}:repeat`)) || undefined, {
      timeoutMs: 15_000,
      intervalMs: 10,
      what: 'the election reconcile to apply its first job schedulers',
    });
    expect(applied).toBeLessThan(JOBS);
    const started = performance.now();
    const closed = a.close();
    await waitFor(async () => (await leader()).owner === 'busy-b', {
      timeoutMs: 20_000,
      intervalMs: 5,
      what: 'busy-b to lead',
    });
    const handoverMs = performance.now() - started;
    await closed;
    apps.splice(apps.indexOf(a), 1);
    expect(handoverMs).toBeLessThan(1000);
  });
});
