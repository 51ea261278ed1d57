import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { JobRegistry } from '@cronbundle/registry';
import { RedisKeys } from '@cronbundle/redis';
import {
  AppProcess,
  connectTestRedis,
  deletePrefix,
  testPrefix,
  testRedisUrl,
  waitFor,
  withDeadline,
} from '@cronbundle/testing';

interface ExecutionBody {
  id: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  stages: Record<string, { ms: number }>;
  bundle?: { name: string; sizeBytes: number; sha256: string; files: number };
  upload?: { url: string };
  attempts: { attempt: number; workerId: string; status: string }[];
  logs?: { message: string }[];
  error: { stage: string; message: string } | null;
  reason?: string | null;
}

/** A job whose one collector runs `sleep <seconds>` on the worker host. */
function sleepingJob(id: string, seconds: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    schedule: { cron: '0 0 1 1 *' },
    retry: { attempts: 1, backoffSeconds: 0 },
    spec: {
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { hostCollectors: [{ run: { collectorName: 'nap', command: 'sleep', args: [String(seconds)] } }] },
    },
    ...extra,
  };
}

/** A job whose one collector GETs a URL that never answers (the run lasts until aborted). */
function hangingJob(id: string, url: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    schedule: { cron: '0 0 1 1 *' },
    retry: { attempts: 1, backoffSeconds: 0 },
    spec: {
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { hostCollectors: [{ http: { collectorName: 'hang', get: { url } } }] },
    },
    ...extra,
  };
}

/** An HTTP server that never answers; `arrived(path)` resolves when a request for path comes in. */
class HangingServer {
  private readonly waiters = new Map<string, () => void>();
  private readonly seen = new Set<string>();
  constructor(private readonly server: Server) {
    server.on('request', (req) => {
      this.seen.add(req.url ?? '');
      this.waiters.get(req.url ?? '')?.();
    });
  }
  static async start(): Promise<HangingServer> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return new HangingServer(server);
  }
  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }
  arrived(path: string): Promise<void> {
    if (this.seen.has(path)) return Promise.resolve();
    return withDeadline(new Promise<void>((r) => this.waiters.set(path, r)), 10_000, `a request for ${path}`);
  }
  stop(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

describe('worker runs triggered through the api (built processes, real Redis)', () => {
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const uploadDir = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-bundles-'));
  let redis: Redis;
  let registry: JobRegistry;
  let api: AppProcess;
  let worker: AppProcess;
  let hang: HangingServer;

  const call = (method: string, path: string) =>
    fetch(`${api.url}/api/v1${path}`, { method, signal: AbortSignal.timeout(5000) });
  const execution = async (id: string) => (await (await call('GET', `/executions/${id}`)).json()) as ExecutionBody;
  const trigger = async (jobId: string) => {
    const res = await call('POST', `/jobs/${jobId}/trigger`);
    return { res, body: (await res.json()) as Record<string, string> };
  };
  const until = (id: string, statuses: string[], timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const e = await execution(id);
        return statuses.includes(e.status) ? e : undefined;
      },
      { timeoutMs, intervalMs: 50, what: `execution ${id} to be ${statuses.join('|')}` },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\nexecution: ${JSON.stringify(await execution(id))}\nworker: ${worker.tail(30)}`);
    });

  beforeAll(async () => {
    redis = connectTestRedis();
    hang = await HangingServer.start();
    registry = new JobRegistry(redis, keys);
    const env = {
      REDIS_URL: testRedisUrl(),
      CRONBUNDLE_PREFIX: prefix,
      AUTH_DISABLED: 'true',
      UPLOAD_DEFAULT_URL: pathToFileURL(uploadDir).href,
      COLLECT_ALLOW_RUN: 'true',
      LOG_LEVEL: 'warn',
    };
    [api, worker] = await Promise.all([AppProcess.start('api', env), AppProcess.start('worker', env)]);
    await Promise.all([api.waitForStatus(), worker.waitForStatus()]);
  });
  afterAll(async () => {
    api?.kill();
    hang?.stop();
    worker?.kill();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  it('trigger → 202 with Location → succeeded with stage timings, logs and the bundle under the upload dir', async () => {
    await registry.create(sleepingJob('quick', 0));
    const { res, body } = await trigger('quick');
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/v1/executions/${body.executionId}`);

    const done = await until(body.executionId, ['succeeded', 'failed']);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: null });
    for (const stage of ['collect', 'analyze', 'redact', 'bundle', 'upload']) {
      expect(done.stages[stage]?.ms).toEqual(expect.any(Number));
    }
    expect(done.bundle!.name).toMatch(
      new RegExp(`^quick-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ-${done.id}\\.tar\\.gz$`),
    );
    const file = join(uploadDir, 'quick', done.bundle!.name);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBe(done.bundle!.sizeBytes);
    expect(done.upload!.url).toBe(pathToFileURL(file).href);
    expect(done.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'succeeded' })]);
    expect(done.logs!.map((l) => l.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/attempt 1 started/)]),
    );

    const download = await call('GET', `/executions/${done.id}/bundle`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/gzip');
    expect((await download.arrayBuffer()).byteLength).toBe(done.bundle!.sizeBytes);
    expect((await call('POST', '/executions/01JZZZZZZZZZZZZZZZZZZZZZZZ/reupload')).status).toBe(404);
    expect((await call('GET', '/jobs/quick/executions?status=bogus')).status).toBe(400);

    const list = (await (await call('GET', '/jobs/quick/executions?limit=10')).json()) as { items: ExecutionBody[] };
    expect(list.items.map((e) => e.id)).toEqual([done.id]);
    expect((await call('GET', '/jobs/nope/executions')).status).toBe(404);
    expect((await call('POST', '/jobs/nope/trigger')).status).toBe(404);
    expect((await call('GET', '/executions/01JZZZZZZZZZZZZZZZZZZZZZZZ')).status).toBe(404);
    const metrics = await (await worker.get('/metrics')).text();
    expect(metrics).toMatch(/cronbundle_executions_total\{job="quick",status="succeeded",trigger="manual"[^}]*\} 1/);
    expect(metrics).toMatch(/cronbundle_execution_duration_seconds_count\{[^}]*stage="collect"[^}]*\} 1/);
    expect(metrics).toMatch(/cronbundle_executions_active\{[^}]*\} 0/);
    // queue_jobs{state} is refreshed with each heartbeat (3 s).
    await waitFor(
      async () =>
        /cronbundle_queue_jobs\{[^}]*state="completed"[^}]*\} [1-9]/.test(await (await worker.get('/metrics')).text()),
      { timeoutMs: 8000, what: 'cronbundle_queue_jobs{state="completed"} to count the run' },
    );
  });

  it('a second trigger during a 5-second run → 409 locked with the running execution; with allow both run', async () => {
    await registry.create(sleepingJob('slow', 5));
    const first = await trigger('slow');
    expect(first.res.status).toBe(202);
    const running = await until(first.body.executionId, ['running']);
    await waitFor(async () => (await redis.exists(keys.runLock('slow'))) === 1, { what: 'the run lock' });

    const second = await trigger('slow');
    expect(second.res.status).toBe(409);
    expect(second.body).toMatchObject({ error: 'locked', runningExecutionId: running.id });
    expect(Date.parse(second.body.startedAt)).not.toBeNaN();
    expect(Date.parse(second.body.lockExpiresAt)).toBeGreaterThan(Date.now());

    await registry.create(sleepingJob('slow-allow', 3, { overlapPolicy: 'allow' }));
    const a = await trigger('slow-allow');
    await until(a.body.executionId, ['running']);
    const b = await trigger('slow-allow');
    expect(b.res.status).toBe(202);
    const [doneA, doneB] = await Promise.all([
      until(a.body.executionId, ['succeeded']),
      until(b.body.executionId, ['succeeded']),
    ]);
    // They overlapped: the second started before the first finished.
    expect(Date.parse(doneB.startedAt!)).toBeLessThan(Date.parse(doneA.finishedAt!));
    expect((await until(first.body.executionId, ['succeeded'])).status).toBe('succeeded');
  });

  it('cancel ends a running execution as cancelled within 2 s; cancelling it again is 409', async () => {
    await registry.create(hangingJob('cancel-me', hang.url('/cancel-me')));
    const { body } = await trigger('cancel-me');
    await hang.arrived('/cancel-me');
    const asked = Date.now();
    const res = await call('POST', `/executions/${body.executionId}/cancel`);
    expect(res.status).toBe(202);
    const done = await until(body.executionId, ['cancelled', 'failed', 'succeeded'], 5000);
    expect(done.status).toBe('cancelled');
    expect(Date.parse(done.finishedAt!) - asked).toBeLessThan(2000);
    expect((await call('POST', `/executions/${body.executionId}/cancel`)).status).toBe(409);
    // The lock was released: the job can be triggered again at once.
    expect((await trigger('cancel-me')).res.status).toBe(202);
  });

  it('timeoutSeconds ends a run as timed_out within 2 s of the deadline', async () => {
    await registry.create(hangingJob('too-slow', hang.url('/too-slow'), { timeoutSeconds: 2 }));
    const { body } = await trigger('too-slow');
    const done = await until(body.executionId, ['timed_out', 'failed', 'succeeded'], 10_000);
    expect(done.status).toBe('timed_out');
    expect(done.error).toEqual({ stage: 'collect', message: 'timed out after 2 s' });
    const ran = Date.parse(done.finishedAt!) - Date.parse(done.startedAt!);
    expect(ran).toBeGreaterThanOrEqual(2000);
    expect(ran).toBeLessThan(4000);
  });
});
