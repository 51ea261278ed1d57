import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ExecutionStore } from '@cronbundle/executions';
import { JobName, QueueName, runJobId } from '@cronbundle/queue';
import { JobRegistry } from '@cronbundle/registry';
import { RedisKeys } from '@cronbundle/redis';
import { AppProcess, RedisServer, testPrefix, waitFor } from '@cronbundle/testing';

const GRACE_MS = 2000;
/**
 * The process's own hard stop is grace + 1.5 s with exit 1; a clean stop must come well before it.
 * (Closing ioredis clients that are reconnecting costs RedisConnections.closeAll its 1 s bound.)
 */
const MARGIN_MS = 1300;

/**
 * SIGTERM while Redis is unreachable: the worker cannot hand runs back or deregister, but it must
 * not hang on BullMQ or on Redis-bound cleanups: exit 0 within SHUTDOWN_GRACE_MS + a small margin.
 * Each test stops its own private redis-server, so the shared test Redis is never disturbed.
 */
describe('worker SIGTERM while Redis is down (built process, private Redis)', () => {
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  let redis: RedisServer;
  let client: Redis;
  let worker: AppProcess | undefined;
  let hang: Server | undefined;

  beforeEach(async () => {
    redis = await RedisServer.start();
    client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false });
    client.on('error', () => undefined);
  });
  afterEach(async () => {
    worker?.kill();
    worker = undefined;
    hang?.closeAllConnections();
    hang?.close();
    hang = undefined;
    client.disconnect();
    await redis.stop();
  });

  const startWorker = async () => {
    const w = await AppProcess.start('worker', {
      REDIS_URL: redis.url,
      CRONBUNDLE_PREFIX: prefix,
      INSTANCE_ID: 'worker-offline',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      LOG_LEVEL: 'warn',
    });
    worker = w;
    await w.waitForStatus();
    return w;
  };

  /** Stop Redis and wait until the worker reports it (readiness goes 503). */
  const stopRedis = async (w: AppProcess) => {
    await redis.stop({ keepDir: true });
    await w.waitForStatus('/health/ready', 503, 10_000);
  };

  it('an idle worker exits 0 within the grace period', async () => {
    const w = await startWorker();
    await stopRedis(w);
    const exit = await w.stop('SIGTERM', GRACE_MS + 5000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(GRACE_MS + MARGIN_MS);
  });

  it('a worker with a run in progress exits 0 within the grace period (the run cannot be handed back)', async () => {
    // An HTTP collector against a server that never answers keeps the run going until aborted.
    let arrived!: () => void;
    const requested = new Promise<void>((r) => (arrived = r));
    hang = createServer(() => arrived());
    await new Promise<void>((r) => hang!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/slow`;
    await new JobRegistry(client, keys).create({
      id: 'offline',
      schedule: { cron: '0 0 1 1 *' },
      retry: { attempts: 1, backoffSeconds: 0 },
      spec: {
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'SupportBundle',
        spec: { hostCollectors: [{ http: { collectorName: 'hang', get: { url } } }] },
      },
    });
    const w = await startWorker();
    // Enqueue a manual run the way the api does (record first, then the BullMQ job).
    const store = new ExecutionStore(client, keys);
    const record = await store.create({ jobId: 'offline', trigger: 'manual', scheduledFor: Date.now() });
    const queueConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QueueName.Runs, { connection: queueConnection, prefix: keys.bullPrefix });
    await queue.add(
      JobName.Run,
      { jobId: 'offline', trigger: 'manual', executionId: record.id },
      { jobId: runJobId('manual', record.id) },
    );
    await requested;
    await waitFor(async () => (await store.get(record.id))?.status === 'running', {
      what: 'the run to be running',
      timeoutMs: 10_000,
    });
    await queue.close();
    queueConnection.disconnect();

    await stopRedis(w);
    const exit = await w.stop('SIGTERM', GRACE_MS + 5000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(GRACE_MS + MARGIN_MS);
    expect(w.output.join('\n')).not.toMatch(/shutdown took too long/);
  });
});
