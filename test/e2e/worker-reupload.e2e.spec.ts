import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { ExecutionStore } from '@cronbundle/executions';
import { RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { AppProcess, connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';

interface ReuploadBody {
  status: 'queued' | 'succeeded' | 'failed';
  requestedAt: string;
  requestedBy: string;
  from: string;
  url?: string;
  ms?: number;
  error?: string;
}
interface ExecutionBody {
  id: string;
  status: string;
  bundle?: { name: string; sizeBytes: number; sha256: string };
  upload?: { url: string; ms: number };
  reupload?: ReuploadBody;
}

/**
 * `POST /executions/:id/reupload` end to end: the api records the request and queues it, a worker
 * copies the bundle from where it was uploaded to the job's current destination and records the
 * outcome on the execution (ARCHITECTURE.md §6).
 */
describe('re-upload of an execution bundle (built api + worker, real Redis)', () => {
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const first = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-reupload-a-'));
  const second = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-reupload-b-'));
  let redis: Redis;
  let registry: JobRegistry;
  let api: AppProcess;
  let worker: AppProcess;

  const call = (method: string, path: string) =>
    fetch(`${api.url}/api/v1${path}`, { method, signal: AbortSignal.timeout(5000) });
  const execution = async (id: string) => (await (await call('GET', `/executions/${id}`)).json()) as ExecutionBody;
  const reupload = async (id: string) => {
    const res = await call('POST', `/executions/${id}/reupload`);
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const untilReupload = (id: string, requestedAt: string) =>
    waitFor(
      async () => {
        const r = (await execution(id)).reupload;
        return r && r.requestedAt === requestedAt && r.status !== 'queued' ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50, what: `the re-upload of ${id} to finish` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nworker: ${worker.tail(20)}`);
    });

  beforeAll(async () => {
    redis = connectTestRedis();
    registry = new JobRegistry(redis, keys);
    const env = {
      REDIS_URL: testRedisUrl(),
      CRONBUNDLE_PREFIX: prefix,
      AUTH_DISABLED: 'true',
      UPLOAD_DEFAULT_URL: pathToFileURL(first).href,
      COLLECT_ALLOW_RUN: 'true',
      LOG_LEVEL: 'warn',
    };
    [api, worker] = await Promise.all([AppProcess.start('api', env), AppProcess.start('worker', env)]);
    await Promise.all([api.waitForStatus(), worker.waitForStatus()]);
  });
  afterAll(async () => {
    api?.kill();
    worker?.kill();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(first, { recursive: true, force: true });
    rmSync(second, { recursive: true, force: true });
  });

  it('copies the bundle to the job’s current destination, records it, and refuses what has nothing to re-upload', async () => {
    await registry.create({
      id: 'keeper',
      schedule: { cron: '0 0 1 1 *' },
      retry: { attempts: 1, backoffSeconds: 0 },
      spec: {
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'SupportBundle',
        spec: { hostCollectors: [{ run: { collectorName: 'hi', command: 'echo', args: ['hello'] } }] },
      },
    });
    const triggered = (await (await call('POST', '/jobs/keeper/trigger')).json()) as { executionId: string };
    const done = await waitFor(
      async () => {
        const e = await execution(triggered.executionId);
        return e.status === 'succeeded' || e.status === 'failed' ? e : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the run to finish' },
    );
    expect(done.status).toBe('succeeded');
    const original = join(first, 'keeper', done.bundle!.name);
    expect(done.upload!.url).toBe(pathToFileURL(original).href);

    // The job now uploads elsewhere: the re-upload goes there, under the same object name.
    await registry.update('keeper', { upload: { url: pathToFileURL(second).href } });
    const queued = await reupload(done.id);
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ executionId: done.id, status: 'queued', from: done.upload!.url });
    const result = await untilReupload(done.id, queued.body.requestedAt);
    const copy = join(second, 'keeper', done.bundle!.name);
    expect(result).toMatchObject({
      status: 'succeeded',
      requestedBy: 'anonymous',
      from: pathToFileURL(original).href,
      url: pathToFileURL(copy).href,
      ms: expect.any(Number),
    });
    expect(createHash('sha256').update(readFileSync(copy)).digest('hex')).toBe(done.bundle!.sha256);
    expect(existsSync(original)).toBe(true);
    const after = await execution(done.id);
    expect(after.status).toBe('succeeded');
    expect(after.upload!.url).toBe(pathToFileURL(copy).href);

    // A destination no uploader serves: the failure is recorded on the execution, not lost.
    await registry.update('keeper', { upload: { url: 'https://bundles.invalid/x/' } });
    const failing = await reupload(done.id);
    expect(failing.status).toBe(202);
    expect(failing.body.from).toBe(pathToFileURL(copy).href);
    const failed = await untilReupload(done.id, failing.body.requestedAt);
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/no uploader for https:/) });
    expect((await execution(done.id)).upload!.url).toBe(pathToFileURL(copy).href);

    // The bundle was removed from where the execution says it is: 409 naming the place.
    rmSync(copy);
    const gone = await reupload(done.id);
    expect(gone.status).toBe(409);
    expect(gone.body.message).toMatch(
      new RegExp(`nothing to re-upload: its bundle is no longer at ${pathToFileURL(copy).href}`),
    );
  });

  it('409 for an execution that has not finished or kept no bundle; 404 for an unknown id', async () => {
    const store = new ExecutionStore(redis, keys);
    const record = await store.create({ jobId: 'keeper', trigger: 'manual', scheduledFor: Date.now() });
    const unfinished = await reupload(record.id);
    expect(unfinished.status).toBe(409);
    expect(unfinished.body.message).toMatch(/has nothing to re-upload: it has not finished \(status queued\)/);

    expect((await call('POST', `/executions/${record.id}/cancel`)).status).toBe(202);
    const cancelled = await reupload(record.id);
    expect(cancelled.status).toBe(409);
    expect(cancelled.body.message).toMatch(/it ended cancelled without an uploaded bundle/);

    expect((await reupload('01JZZZZZZZZZZZZZZZZZZZZZZZ')).status).toBe(404);
    expect((await reupload('not-an-id')).status).toBe(404);
  });
});
