import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { JobRegistry } from '@cronbundle/registry';
import { RedisKeys } from '@cronbundle/redis';
import { AppProcess, connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';

interface ExecutionBody {
  id: string;
  status: string;
  workerId: string | null;
  finishedAt: string | null;
  bundle?: { name: string };
  attempts: { attempt: number; workerId: string; status: string; startedAt: string; error?: string }[];
}

interface LockValue {
  token: string;
  executionId: string;
}

function sleepingJob(id: string, seconds: number, overlapPolicy = 'skip') {
  return {
    id,
    schedule: { cron: '0 0 1 1 *' },
    overlapPolicy,
    retry: { attempts: 1, backoffSeconds: 0 },
    spec: {
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { hostCollectors: [{ run: { collectorName: 'nap', command: 'sleep', args: [String(seconds)] } }] },
    },
  };
}

describe('worker crash and shutdown recovery (built processes, real Redis)', () => {
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const uploadDir = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-recovery-'));
  const processes: AppProcess[] = [];
  let redis: Redis;
  let registry: JobRegistry;
  let api: AppProcess;

  const env = (extra: Record<string, string> = {}) => ({
    REDIS_URL: testRedisUrl(),
    CRONBUNDLE_PREFIX: prefix,
    AUTH_DISABLED: 'true',
    UPLOAD_DEFAULT_URL: pathToFileURL(uploadDir).href,
    COLLECT_ALLOW_RUN: 'true',
    RUN_LOCK_MS: '5000',
    LOG_LEVEL: 'warn',
    ...extra,
  });
  const startWorker = async (name: string, extra: Record<string, string> = {}) => {
    const worker = await AppProcess.start('worker', env({ INSTANCE_ID: name, ...extra }));
    processes.push(worker);
    await worker.waitForStatus();
    return worker;
  };
  const execution = async (id: string) =>
    (await (await fetch(`${api.url}/api/v1/executions/${id}`)).json()) as ExecutionBody;
  const trigger = async (jobId: string) => {
    const res = await fetch(`${api.url}/api/v1/jobs/${jobId}/trigger`, { method: 'POST' });
    expect(res.status).toBe(202);
    return ((await res.json()) as { executionId: string }).executionId;
  };
  const until = (id: string, test: (e: ExecutionBody) => boolean, what: string, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        const e = await execution(id);
        return test(e) ? e : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `execution ${id} ${what}` },
    );

  beforeAll(async () => {
    redis = connectTestRedis();
    registry = new JobRegistry(redis, keys);
    api = await AppProcess.start('api', env());
    processes.push(api);
    await api.waitForStatus();
  });
  afterAll(async () => {
    processes.forEach((p) => p.kill());
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  it('SIGKILL of the worker running a long execution: another worker restarts it within 10 s and completes it; both attempts recorded', async () => {
    // The default run lock ttl (15 s) outlives the 10 s bound: the restart cannot come from the
    // dead attempt's lock expiring, only from the redelivery taking it over (overlap skip).
    const lockEnv = { RUN_LOCK_MS: '15000' };
    const workers = {
      'worker-a': await startWorker('worker-a', lockEnv),
      'worker-b': await startWorker('worker-b', lockEnv),
    };
    await registry.create(sleepingJob('crashy', 6, 'skip'));
    const id = await trigger('crashy');
    const running = await until(id, (e) => e.status === 'running' && e.workerId !== null, 'to run');
    const victim = running.workerId as keyof typeof workers;
    const survivor = victim === 'worker-a' ? 'worker-b' : 'worker-a';
    const lockOf = async () => JSON.parse((await redis.get(keys.runLock('crashy'))) ?? 'null') as LockValue | null;
    const deadLock = await lockOf();
    expect(deadLock).toMatchObject({ executionId: id, token: expect.stringMatching(`^${victim}/`) });
    const killedAt = Date.now();
    const deadLockExpiresAt = killedAt + (await redis.pttl(keys.runLock('crashy')));
    expect((await workers[victim].stop('SIGKILL')).signal).toBe('SIGKILL');

    // BullMQ lock 5 s (renewed every 2.5 s) + stalled check every 2.5 s: ≤ 7.5 s, plus the pick-up.
    const restarted = await until(id, (e) => e.attempts.length >= 2, 'to restart on the other worker', 20_000);
    expect(restarted.attempts[1]).toMatchObject({ attempt: 2, workerId: survivor });
    const restartedAt = Date.parse(restarted.attempts[1].startedAt);
    expect(restartedAt - killedAt).toBeLessThan(10_000);
    // While the dead attempt's run lock was still live: the redelivery took it over (new token).
    expect(restartedAt).toBeLessThan(deadLockExpiresAt);
    expect(await lockOf()).toMatchObject({ executionId: id, token: expect.stringMatching(`^${survivor}/`) });

    const done = await until(id, (e) => e.status === 'succeeded' || e.status === 'failed', 'to finish', 40_000);
    expect(done.status).toBe('succeeded');
    expect(done.attempts.map((a) => [a.attempt, a.workerId, a.status])).toEqual([
      [1, victim, 'failed'],
      [2, survivor, 'succeeded'],
    ]);
    expect(done.attempts[0].error).toMatch(/stopped before finishing/);
    // Redelivered by the stalled check (≤ 10 s), then a 6 s run.
    expect(Date.parse(done.finishedAt!) - killedAt).toBeLessThan(30_000);
    const history = (await (await fetch(`${api.url}/api/v1/jobs/crashy/executions`)).json()) as {
      items: ExecutionBody[];
    };
    expect(history.items.map((e) => [e.id, e.status])).toEqual([[id, 'succeeded']]);
    expect(readdirSync(join(uploadDir, 'crashy'))).toEqual([done.bundle!.name]);
    const metrics = await (await workers[survivor].get('/metrics')).text();
    expect(metrics).toMatch(/cronbundle_redeliveries_total\{[^}]*\} 1/);
    await workers[survivor].stop('SIGTERM');
  });

  it('SIGTERM during a short run: the run finishes, then the worker exits 0', async () => {
    const worker = await startWorker('worker-c');
    await registry.create(sleepingJob('short', 2));
    const id = await trigger('short');
    await until(id, (e) => e.status === 'running', 'to run', 10_000);
    const exit = await worker.stop('SIGTERM', 10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    const done = await execution(id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toEqual([expect.objectContaining({ workerId: 'worker-c', status: 'succeeded' })]);
    expect(await redis.hexists(keys.workers, 'worker-c')).toBe(0);
  });

  it('SIGTERM during a long run: handed back after the grace period, finished by another worker; exit 0', async () => {
    const leaving = await startWorker('worker-d', { SHUTDOWN_GRACE_MS: '2000' });
    await registry.create(sleepingJob('long', 6));
    const id = await trigger('long');
    await until(id, (e) => e.status === 'running' && e.workerId === 'worker-d', 'to run on worker-d', 10_000);
    await startWorker('worker-e');

    const exit = await leaving.stop('SIGTERM', 6000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(3500);
    const done = await until(id, (e) => e.status === 'succeeded' || e.status === 'failed', 'to finish', 20_000);
    expect(done.status).toBe('succeeded');
    expect(done.attempts.map((a) => [a.workerId, a.status])).toEqual([
      ['worker-d', 'interrupted'],
      ['worker-e', 'succeeded'],
    ]);
    expect(existsSync(join(uploadDir, 'long', done.bundle!.name))).toBe(true);
  });
});
