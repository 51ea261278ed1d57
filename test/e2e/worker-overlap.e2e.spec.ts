import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ExecutionStore, type Execution } from '@cronbundle/executions';
import { JobName, QueueName, type RunPayload } from '@cronbundle/queue';
import { RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { AppProcess, connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';

/** A job whose collector GETs a URL the test server answers after `delayMs`. */
function slowJob(id: string, url: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    schedule: { cron: '* * * * *' },
    retry: { attempts: 1, backoffSeconds: 0 },
    spec: {
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { hostCollectors: [{ http: { collectorName: 'slow', get: { url } } }] },
    },
    ...extra,
  };
}

describe('overlap policies, missed slots and retries on scheduled runs (built worker, real Redis)', () => {
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const uploadDir = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-overlap-'));
  let redis: Redis;
  let registry: JobRegistry;
  let store: ExecutionStore;
  let queue: Queue<RunPayload>;
  let worker: AppProcess;
  let server: Server;
  const arrivals: { path: string; at: number }[] = [];
  const SLOT = Date.UTC(2026, 10, 22, 2, 0, 0);

  const url = (path: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  /** Enqueue a scheduled run of `jobId` for the slot `SLOT + i minutes`, as the scheduler would. */
  const enqueueSlot = (jobId: string, i: number) =>
    queue.add(
      JobName.Run,
      { jobId, trigger: 'schedule', scheduledFor: SLOT + i * 60_000 },
      { jobId: `slot-${jobId}-${i}`, attempts: 2, backoff: { type: 'exponential', delay: 500 } },
    );
  const slotRecord = async (jobId: string, i: number) => {
    const id = await redis.hget(keys.jobSlots(jobId), String(SLOT + i * 60_000));
    return id ? store.get(id) : null;
  };
  const untilSlot = (jobId: string, i: number, test: (e: Execution) => boolean, what: string, timeoutMs = 15_000) =>
    waitFor(
      async () => {
        const e = await slotRecord(jobId, i);
        return e && test(e) ? e : undefined;
      },
      { timeoutMs, intervalMs: 50, what: `${jobId} slot ${i} ${what}` },
    );
  const done = (e: Execution) => ['succeeded', 'failed', 'cancelled', 'skipped', 'timed_out'].includes(e.status);

  beforeAll(async () => {
    redis = connectTestRedis();
    registry = new JobRegistry(redis, keys);
    store = new ExecutionStore(redis, keys);
    // BullMQ does not close a connection it was given: this file closes `redis`, which it shares.
    queue = new Queue<RunPayload>(QueueName.Runs, { connection: redis, prefix: keys.bullPrefix });
    server = createServer((req, res) => {
      arrivals.push({ path: req.url ?? '', at: Date.now() });
      const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? '0');
      setTimeout(() => res.end('ok'), delay).unref();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    worker = await AppProcess.start('worker', {
      REDIS_URL: testRedisUrl(),
      CRONBUNDLE_PREFIX: prefix,
      UPLOAD_DEFAULT_URL: pathToFileURL(uploadDir).href,
      RUN_LOCK_MS: '5000',
      LOG_LEVEL: 'warn',
    });
    await worker.waitForStatus();
  });
  afterAll(async () => {
    worker?.kill();
    server?.closeAllConnections();
    server?.close();
    await queue?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  it('skip: a slot arriving while the previous run holds the lock is recorded skipped (reason overlap)', async () => {
    await registry.create(slowJob('pol-skip', url('/skip?ms=1500'), { overlapPolicy: 'skip' }));
    await enqueueSlot('pol-skip', 0);
    await untilSlot('pol-skip', 0, (e) => e.status === 'running', 'to run');
    await enqueueSlot('pol-skip', 1);
    const skipped = await untilSlot('pol-skip', 1, done, 'to end');
    expect(skipped).toMatchObject({ status: 'skipped', reason: 'overlap', trigger: 'schedule', attempts: [] });
    expect(await untilSlot('pol-skip', 0, done, 'to end')).toMatchObject({ status: 'succeeded' });
  });

  it('queue: one slot waits for the lock and runs after; a second waiting slot is skipped', async () => {
    await registry.create(slowJob('pol-queue', url('/queue?ms=1000'), { overlapPolicy: 'queue' }));
    await enqueueSlot('pol-queue', 0);
    await untilSlot('pol-queue', 0, (e) => e.status === 'running', 'to run');
    await enqueueSlot('pol-queue', 1);
    await waitFor(async () => (await redis.get(keys.runLockWaiter('pol-queue'))) !== null, { what: 'a waiter' });
    await enqueueSlot('pol-queue', 2);
    const third = await untilSlot('pol-queue', 2, done, 'to end');
    expect(third).toMatchObject({ status: 'skipped', reason: 'overlap: another run is already queued' });
    const first = await untilSlot('pol-queue', 0, done, 'to end');
    const second = await untilSlot('pol-queue', 1, done, 'to end');
    expect([first.status, second.status]).toEqual(['succeeded', 'succeeded']);
    expect(Date.parse(second.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first.finishedAt!));
  });

  it('cancel-previous: the running slot is cancelled and the new one runs', async () => {
    await registry.create(slowJob('pol-cancel', url('/cancel?ms=1500'), { overlapPolicy: 'cancel-previous' }));
    await enqueueSlot('pol-cancel', 0);
    await waitFor(() => arrivals.some((a) => a.path.startsWith('/cancel')), { what: 'the first request' });
    await enqueueSlot('pol-cancel', 1);
    const second = await untilSlot('pol-cancel', 1, done, 'to end');
    const first = await untilSlot('pol-cancel', 0, done, 'to end');
    expect(first.status).toBe('cancelled');
    expect(first.reason).toContain(`cancelled by execution ${second.id}`);
    expect(second.status).toBe('succeeded');
    expect(Date.parse(second.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first.finishedAt!));
  });

  it('a slot the scheduler already marked missed is not run; deleted and disabled jobs are skipped', async () => {
    await registry.create(slowJob('missed', url('/missed')));
    const { record } = await store.ensureSlot({
      jobId: 'missed',
      scheduledFor: SLOT,
      trigger: 'schedule',
      status: 'missed',
      reason: 'scheduler was down',
    });
    const job = await enqueueSlot('missed', 0);
    await waitFor(async () => (await job.getState()) === 'completed', { what: 'the BullMQ job to complete' });
    expect(await store.get(record.id)).toMatchObject({ status: 'missed', attempts: [] });
    expect(arrivals.some((a) => a.path === '/missed')).toBe(false);

    await registry.create(slowJob('off', url('/off'), { enabled: false }));
    await enqueueSlot('off', 0);
    expect(await untilSlot('off', 0, done, 'to end')).toMatchObject({ status: 'skipped', reason: 'job disabled' });
    await enqueueSlot('gone', 0);
    expect(await untilSlot('gone', 0, done, 'to end')).toMatchObject({ status: 'skipped', reason: 'job deleted' });
  });

  it('dependsOn: a 3-job chain runs in order, each once, with trigger dependency', async () => {
    await registry.create(slowJob('dep-a', url('/dep-a')));
    await registry.create(slowJob('dep-b', url('/dep-b'), { dependsOn: ['dep-a'] }));
    await registry.create(slowJob('dep-c', url('/dep-c'), { dependsOn: ['dep-b'] }));
    await queue.add(
      JobName.Run,
      { jobId: 'dep-a', trigger: 'manual', scheduledFor: Date.now() },
      { jobId: 'dep-chain' },
    );
    const only = async (jobId: string) => {
      const page = await store.listForJob(jobId, {});
      return page.items.length === 1 && page.items[0].status === 'succeeded' ? page.items[0] : undefined;
    };
    const c = await waitFor(() => only('dep-c'), { timeoutMs: 15_000, what: 'dep-c to succeed once' });
    const [a, b] = [(await only('dep-a'))!, (await only('dep-b'))!];
    expect([a.trigger, b.trigger, c.trigger]).toEqual(['manual', 'dependency', 'dependency']);
    expect(Date.parse(b.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a.finishedAt!));
    expect(Date.parse(c.startedAt!)).toBeGreaterThanOrEqual(Date.parse(b.finishedAt!));
  });

  it('retries: a failing upload is retried with backoff, each attempt visible, then failed (dead letter)', async () => {
    await registry.create(slowJob('flaky', url('/flaky'), { upload: { url: 'file:///dev/null/not-a-directory/' } }));
    const job = await enqueueSlot('flaky', 0);
    const failed = await untilSlot('flaky', 0, done, 'to end');
    expect(failed).toMatchObject({ status: 'failed', error: { stage: 'upload' } });
    expect(failed.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
    ]);
    await waitFor(async () => (await job.getState()) === 'failed', { what: 'the BullMQ job in the failed set' });
    const metrics = await (await worker.get('/metrics')).text();
    expect(metrics).toMatch(/cronbundle_retries_total\{[^}]*\} 1/);
    expect(metrics).toMatch(/cronbundle_executions_total\{job="flaky",status="failed",trigger="schedule"[^}]*\} 1/);
  });
});
