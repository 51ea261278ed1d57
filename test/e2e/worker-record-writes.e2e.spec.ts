import type { Redis } from 'ioredis';
import { RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { AppProcess, connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';

interface ExecutionBody {
  id: string;
  status: string;
  workerId: string | null;
  stages: Record<string, { ms: number }>;
  attempts: { attempt: number; workerId: string; status: string }[];
  logs?: { ts: string; component: string; message: string }[];
}

/**
 * The worker buffers a run's log lines and stage timings and writes them with the attempt's final
 * write (or at most every second while it runs): docs/WORKER.md, "Record writes". What a run
 * killed mid-way leaves behind is the attempt and its "started" line, written with the start.
 */
describe('worker record writes (built processes, real Redis)', () => {
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const processes: AppProcess[] = [];
  let redis: Redis;
  let api: AppProcess;

  const env = (extra: Record<string, string> = {}) => ({
    REDIS_URL: testRedisUrl(),
    CRONBUNDLE_PREFIX: prefix,
    AUTH_DISABLED: 'true',
    COLLECT_ALLOW_RUN: 'true',
    LOG_LEVEL: 'warn',
    ...extra,
  });
  const execution = async (id: string) =>
    (await (await fetch(`${api.url}/api/v1/executions/${id}`)).json()) as ExecutionBody;
  const until = (id: string, test: (e: ExecutionBody) => boolean, what: string) =>
    waitFor(
      async () => {
        const e = await execution(id);
        return test(e) ? e : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `execution ${id} ${what}` },
    );
  const trigger = async (jobId: string) => {
    const res = await fetch(`${api.url}/api/v1/jobs/${jobId}/trigger`, { method: 'POST' });
    expect(res.status).toBe(202);
    return ((await res.json()) as { executionId: string }).executionId;
  };

  beforeAll(async () => {
    redis = connectTestRedis();
    api = await AppProcess.start('api', env());
    processes.push(api);
    await api.waitForStatus();
  });
  afterAll(async () => {
    processes.forEach((p) => p.kill());
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('lines logged while a run is still collecting show on the record before the run ends (periodic flush)', async () => {
    const worker = await AppProcess.start('worker', env({ INSTANCE_ID: 'live' }));
    processes.push(worker);
    await worker.waitForStatus();
    await new JobRegistry(redis, keys).create({
      id: 'live',
      schedule: { cron: '0 0 1 1 *' },
      overlapPolicy: 'allow',
      retry: { attempts: 1, backoffSeconds: 0 },
      spec: {
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'SupportBundle',
        spec: {
          hostCollectors: [
            { run: { collectorName: 'broken', command: 'cronbundle-no-such-command' } },
            { run: { collectorName: 'nap', command: 'sleep', args: ['30'] } },
          ],
        },
      },
    });
    const id = await trigger('live');
    const seen = await until(
      id,
      (e) => (e.logs ?? []).some((l) => l.component === 'collector' && /broken/.test(l.message)),
      'to show the failed collector line',
    );
    expect(seen.status).toBe('running');
    expect(seen.logs!.map((l) => l.component)).toEqual(['api', 'worker', 'collector']);
    await fetch(`${api.url}/api/v1/executions/${id}/cancel`, { method: 'POST' });
    const done = await until(id, (e) => e.status === 'cancelled', 'to be cancelled');
    expect(done.logs!.filter((l) => /broken/.test(l.message))).toHaveLength(1);
    await worker.stop();
  });

  it('a worker SIGKILLed mid-run leaves the record running with its attempt and the "started" line', async () => {
    const worker = await AppProcess.start('worker', env({ INSTANCE_ID: 'doomed' }));
    processes.push(worker);
    await worker.waitForStatus();
    await new JobRegistry(redis, keys).create({
      id: 'killed',
      schedule: { cron: '0 0 1 1 *' },
      overlapPolicy: 'allow',
      retry: { attempts: 1, backoffSeconds: 0 },
      spec: {
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'SupportBundle',
        spec: { hostCollectors: [{ run: { collectorName: 'nap', command: 'sleep', args: ['30'] } }] },
      },
    });
    const id = await trigger('killed');
    const running = await until(id, (e) => e.status === 'running', 'to run');
    // Visible as soon as the attempt is: written in the same step as the start.
    expect(running.logs!.map((l) => l.message)).toEqual(['triggered by anonymous', 'attempt 1 started on doomed']);
    expect((await worker.stop('SIGKILL')).signal).toBe('SIGKILL');

    const after = await execution(id);
    expect(after).toMatchObject({ status: 'running', workerId: 'doomed', stages: {} });
    expect(after.attempts).toEqual([expect.objectContaining({ attempt: 1, workerId: 'doomed', status: 'running' })]);
    expect(after.logs!.map((l) => [l.component, l.message])).toEqual([
      ['api', 'triggered by anonymous'],
      ['worker', 'attempt 1 started on doomed'],
    ]);
  });
});
