import { Queue } from 'bullmq';
import type { Scenario } from '../lib/context';
import { bullConnection, registryOf, runsQueue, scheduledRun } from '../lib/cronbundle';
import { Proc, ProcSet, waitUntil } from '../lib/harness';
import type { ResultRow } from '../lib/stats';
import { fmt, meets, type Goal } from '../lib/stats';

const GOAL: Goal = { better: 'lower', limit: 10_000, text: '≤ 10 s (BullMQ defaults: ~60 s)' };

/** A job whose run lasts `seconds` (a `run` collector sleeping on the worker host). */
function sleepingJob(id: string, seconds: number, overlapPolicy: string) {
  return {
    id,
    schedule: { cron: '0 0 1 1 *' },
    overlapPolicy,
    timeoutSeconds: 600,
    spec: {
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { hostCollectors: [{ run: { collectorName: 'nap', command: 'sleep', args: [String(seconds)] } }] },
    },
  };
}

/** cronbundle: two built workers; SIGKILL the one running the run; time until the other starts attempt 2. */
async function cronbundleRedelivery(ctx: Parameters<Scenario['run']>[0], policy: string): Promise<number> {
  await ctx.redis.flushall();
  const prefix = 'cbx';
  const procs = new ProcSet();
  const connection = bullConnection(ctx.redisUrl);
  const queue = runsQueue(connection, prefix);
  const { registry, keys } = registryOf(ctx.redis, prefix);
  try {
    const def = await registry.create(sleepingJob('nap', 120, policy));
    const env = { REDIS_URL: ctx.redisUrl, CRONBUNDLE_PREFIX: prefix, COLLECT_ALLOW_RUN: 'true', LOG_LEVEL: 'warn' };
    const workers = [
      procs.add(await Proc.app('worker', { ...env, INSTANCE_ID: 'worker-a' }, 'worker-a')),
      procs.add(await Proc.app('worker', { ...env, INSTANCE_ID: 'worker-b' }, 'worker-b')),
    ];
    await Promise.all(workers.map((w) => w.waitReady()));
    const slot = Date.UTC(2030, 0, 1);
    const run = scheduledRun(def, slot, 0);
    await queue.add(run.name, run.data, run.opts);
    const execId = await waitUntil(
      () => ctx.redis.hget(keys.jobSlots(def.id), String(slot)).then((v) => v ?? undefined),
      'the execution record',
      30_000,
    );
    const runningOn = await waitUntil(
      async () => {
        const [status, workerId] = await ctx.redis.hmget(keys.exec(execId), 'status', 'workerId');
        return status === 'running' ? workerId! : undefined;
      },
      'the run to start',
      30_000,
    );
    const victim = workers.find((w) => w.name === runningOn)!;
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await waitUntil(
      async () => {
        const [status, attempt, workerId] = await ctx.redis.hmget(keys.exec(execId), 'status', 'attempt', 'workerId');
        return status === 'running' && Number(attempt) >= 2 && workerId !== runningOn;
      },
      'attempt 2 on the other worker',
      120_000,
      20,
    );
    return Date.now() - killedAt;
  } finally {
    await procs.stopAll();
    await queue.close();
    connection.disconnect();
  }
}

/** raw BullMQ, default lock/stalled settings: two workers; SIGKILL the one processing; time until the other starts it. */
async function rawRedelivery(ctx: Parameters<Scenario['run']>[0]): Promise<number> {
  await ctx.redis.flushall();
  const procs = new ProcSet();
  const connection = bullConnection(ctx.redisUrl);
  const queue = new Queue('nap', { connection, prefix: 'rawx' });
  try {
    const env = {
      REDIS_URL: ctx.redisUrl,
      PREFIX: 'rawx',
      QUEUE: 'nap',
      CONCURRENCY: '1',
      SLEEP_MS: '120000',
      REPORT_STARTS: 'true',
    };
    const workers = [
      procs.add(await Proc.script('procs/raw-worker.ts', env, 'raw-a')),
      procs.add(await Proc.script('procs/raw-worker.ts', env, 'raw-b')),
    ];
    await Promise.all(workers.map((w) => w.waitForLine((l) => l === 'ready', 'ready')));
    const starts = workers.map((w) => w.waitForLine((l) => l.startsWith('start '), 'a job start', 60_000));
    await queue.add('nap', {}, { attempts: 3 });
    const first = await Promise.race(starts.map((p, i) => p.then(() => i)));
    const other = workers[1 - first];
    const restarted = other.waitForLine((l) => l.startsWith('start '), 'the redelivered job', 180_000, false);
    const killedAt = Date.now();
    workers[first].kill('SIGKILL');
    return (await restarted).at - killedAt;
  } finally {
    await procs.stopAll();
    await queue.close();
    connection.disconnect();
  }
}

export const redelivery: Scenario = {
  name: 'redelivery',
  what: 'worker SIGKILL mid-run → the run restarted on another worker (cronbundle, and raw BullMQ with its defaults in full mode)',
  async run(ctx) {
    const skipMs = await cronbundleRedelivery(ctx, 'skip');
    ctx.log(`  cronbundle (overlap skip, the default): ${skipMs} ms`);
    const allowMs = ctx.quick ? undefined : await cronbundleRedelivery(ctx, 'allow');
    if (allowMs !== undefined) ctx.log(`  cronbundle (overlap allow, no run lock): ${allowMs} ms`);
    const rawMs = ctx.quick ? undefined : await rawRedelivery(ctx);
    if (rawMs !== undefined) ctx.log(`  raw BullMQ defaults: ${rawMs} ms`);
    const raw = rawMs === undefined ? 'not measured in --quick (~30–60 s)' : `${fmt(rawMs / 1000)} s`;
    const rows: ResultRow[] = [
      {
        scenario: 'redelivery after worker SIGKILL (overlap skip, default)',
        cronbundle: `${fmt(skipMs / 1000)} s`,
        raw,
        ...(rawMs !== undefined ? { ratio: skipMs / rawMs } : {}),
        goal: GOAL.text,
        met: meets(skipMs, GOAL),
      },
    ];
    if (allowMs !== undefined)
      rows.push({
        scenario: 'redelivery after worker SIGKILL (overlap allow)',
        cronbundle: `${fmt(allowMs / 1000)} s`,
        raw,
        ...(rawMs !== undefined ? { ratio: allowMs / rawMs } : {}),
        goal: GOAL.text,
        met: meets(allowMs, GOAL),
      });
    return { rows, details: { skipMs, allowMs, rawMs } };
  },
};
