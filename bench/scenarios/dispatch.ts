import { Queue } from 'bullmq';
import type { JobDefinition } from '@cronbundle/core';
import type { BenchContext, Scenario } from '../lib/context';
import {
  bullConnection,
  callsPer,
  doneCounts,
  enqueueRuns,
  perUnit,
  registryOf,
  round,
  runsQueue,
  scheduledRun,
} from '../lib/cronbundle';
import { commandstats, Proc, ProcSet, redisCpuSeconds, waitUntil } from '../lib/harness';
import { fmt, median, meets, type Goal } from '../lib/stats';
import { definitions } from './reconcile';

export const RAW_PREFIX = 'raw';
export const CONCURRENCY = 100;
const GOAL: Goal = { better: 'higher', limit: 0.5, text: '≥ 0.5× raw' };

export interface RoundResult {
  ms: number;
  perSecond: number;
  /** Commands the worker process sent per run (client side, pipelined ones included). */
  workerCommandsPerRun: { total: number; byCommand: Record<string, number> };
  /** Commands Redis executed per run, all clients and Lua scripts' inner calls included. */
  serverCallsPerRun: { total: number; byCommand: Record<string, number> };
  /** redis-server CPU time (user + sys) per run, µs: Redis is one core of a 2-core machine. */
  redisCpuUsPerRun: number;
}

/** The definition every dispatch run belongs to: overlap `allow` (100 concurrent runs of one job). */
export function benchJob(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    schedule: { cron: '0 0 1 1 *' },
    overlapPolicy: 'allow',
    retry: { attempts: 1, backoffSeconds: 0 },
    retention: { executions: 100_000, days: 30 },
    ...extra,
  };
}

/** Raw BullMQ: a worker process with a no-op processor drains n jobs with the same options. */
export async function rawRound(
  ctx: BenchContext,
  n: number,
  def: Pick<JobDefinition, 'retry' | 'id'>,
): Promise<RoundResult> {
  await ctx.redis.flushall();
  const procs = new ProcSet();
  const connection = bullConnection(ctx.redisUrl);
  const queue = new Queue('noop', { connection, prefix: RAW_PREFIX });
  try {
    const worker = procs.add(
      await Proc.script(
        'procs/raw-worker.ts',
        { REDIS_URL: ctx.redisUrl, PREFIX: RAW_PREFIX, QUEUE: 'noop', CONCURRENCY: String(CONCURRENCY) },
        'raw-worker',
      ),
    );
    await worker.waitForLine((l) => l === 'ready', 'ready');
    return await timedDrain(ctx, queue, worker, n, def);
  } finally {
    await procs.stopAll();
    await queue.close();
    connection.disconnect();
  }
}

/** cronbundle: the worker runtime with no-op stages drains n scheduled runs of one job. */
export async function cronbundleRound(
  ctx: BenchContext,
  n: number,
  worker: { script?: string; app?: 'worker'; env?: Record<string, string> } = { script: 'procs/noop-worker.ts' },
  jobExtra: Record<string, unknown> = {},
  prefix = 'cbd',
  /** Other definitions in the registry besides the bench job (they never run). */
  padDefinitions = 0,
): Promise<RoundResult & { def: JobDefinition; verified: number; bytesPerExecution: number }> {
  await ctx.redis.flushall();
  const procs = new ProcSet();
  const connection = bullConnection(ctx.redisUrl);
  const queue = runsQueue(connection, prefix);
  const { registry, keys } = registryOf(ctx.redis, prefix);
  try {
    const def = await registry.create(benchJob('bench-noop', jobExtra));
    const pad = definitions(padDefinitions);
    for (let i = 0; i < pad.length; i += 1000) await registry.createMany(pad.slice(i, i + 1000));
    const env = {
      REDIS_URL: ctx.redisUrl,
      CRONBUNDLE_PREFIX: prefix,
      WORKER_CONCURRENCY: String(CONCURRENCY),
      LOG_LEVEL: 'warn',
      ...worker.env,
    };
    const nodeArgs = ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${ctx.resultsDir}/profiles`] : [];
    const proc = procs.add(
      worker.app
        ? await Proc.app('worker', env, 'worker', nodeArgs)
        : await Proc.script(worker.script!, env, 'noop-worker', nodeArgs),
    );
    await proc.waitReady();
    const result = await timedDrain(ctx, queue, worker.app ? undefined : proc, n, def);
    // Every run has its own execution record, succeeded.
    const ids = await ctx.redis.zrange(keys.jobExecs(def.id), 0, -1);
    const pipeline = ctx.redis.pipeline();
    for (const id of ids) pipeline.hget(keys.exec(id), 'status');
    const statuses = ((await pipeline.exec()) ?? []).map(([, s]) => s as string);
    const verified = statuses.filter((s) => s === 'succeeded').length;
    if (verified !== n)
      throw new Error(`expected ${n} succeeded executions, found ${verified} of ${ids.length} records`);
    const bytesPerExecution = await bytesPerRecord(ctx, ids, keys.exec.bind(keys), [
      keys.jobExecs(def.id),
      keys.jobSlots(def.id),
    ]);
    return { ...result, def, verified, bytesPerExecution };
  } finally {
    await procs.stopAll();
    await queue.close();
    connection.disconnect();
  }
}

async function timedDrain(
  ctx: BenchContext,
  queue: Queue,
  worker: Proc | undefined,
  n: number,
  def: Pick<JobDefinition, 'retry' | 'id'>,
): Promise<RoundResult> {
  if (worker) await worker.request({ type: 'reset' });
  await ctx.redis.config('RESETSTAT');
  const before = await commandstats(ctx.redis);
  const cpuBefore = await redisCpuSeconds(ctx.redis);
  const base = Date.UTC(2030, 0, 1);
  const started = performance.now();
  await enqueueRuns(queue, n, (i) => scheduledRun(def, base + i * 1000, i));
  const done = await waitUntil(
    async () => {
      const c = await doneCounts(queue);
      if (c.failed > 0) throw new Error(`${c.failed} jobs failed`);
      return c.completed >= n ? c : undefined;
    },
    `${n} completed jobs`,
    10 * 60_000,
    20,
  );
  const ms = performance.now() - started;
  const serverCallsPerRun = await callsPer(ctx.redis, before, n);
  const redisCpuUsPerRun = round((((await redisCpuSeconds(ctx.redis)) - cpuBefore) * 1e6) / n, 1);
  const stats = worker
    ? await worker.request<{ total: number; byCommand: Record<string, number> }>({ type: 'stats' })
    : { total: NaN, byCommand: {} };
  ctx.log(`  drained ${done.completed} in ${Math.round(ms)} ms`);
  return {
    ms: Math.round(ms),
    perSecond: round((n / ms) * 1000, 1),
    workerCommandsPerRun: perUnit(stats, n),
    serverCallsPerRun,
    redisCpuUsPerRun,
  };
}

export const dispatch: Scenario = {
  name: 'dispatch',
  what: 'runs/s of a no-op pipeline (scheduled run → worker → execution record) vs raw BullMQ no-op jobs/s, concurrency 100',
  async run(ctx) {
    const n = ctx.quick ? 3000 : 10_000;
    const rounds = ctx.quick ? 1 : 3;
    const raw: RoundResult[] = [];
    const cb: Awaited<ReturnType<typeof cronbundleRound>>[] = [];
    // Options of the bench job (retry → BullMQ attempts/backoff), shared by the raw BullMQ jobs.
    const options = { id: 'bench-noop', retry: { attempts: 1, backoffSeconds: 0 } };
    for (let r = 0; r < rounds; r++) {
      ctx.log(` round ${r + 1}/${rounds}: ${n} jobs each`);
      raw.push(await rawRound(ctx, n, options));
      ctx.log(`  raw BullMQ ${raw[r].perSecond} jobs/s`);
      cb.push(await cronbundleRound(ctx, n));
      ctx.log(`  cronbundle ${cb[r].perSecond} runs/s`);
    }
    // The same runs with a full registry: what each run costs when other jobs exist.
    const pad = ctx.quick ? 2000 : 10_000;
    const padN = ctx.quick ? 300 : 500;
    ctx.log(` ${padN} runs with ${pad} other definitions in the registry`);
    const padded = await cronbundleRound(ctx, padN, undefined, {}, 'cbd', pad);
    ctx.log(`  cronbundle ${padded.perSecond} runs/s`);
    // What-if (bench-only override, not shipped): dependants found by one SMEMBERS, not a registry scan.
    const indexed = await cronbundleRound(
      ctx,
      padN,
      { script: 'procs/noop-worker.ts', env: { BENCH_DEPENDENTS_INDEX: 'true' } },
      {},
      'cbd',
      pad,
    );
    ctx.log(`  what-if, dependants by index: ${indexed.perSecond} runs/s`);
    const rawRate = median(raw.map((r) => r.perSecond));
    const cbRate = median(cb.map((r) => r.perSecond));
    ctx.shared.rawNoopJobsPerSecond = rawRate;
    ctx.shared.bytesPerExecution = median(cb.map((r) => r.bytesPerExecution));
    const ratio = cbRate / rawRate;
    const last = cb[cb.length - 1];
    const lastRaw = raw[raw.length - 1];
    return {
      rows: [
        {
          scenario: 'dispatch',
          cronbundle: `${fmt(cbRate)} runs/s`,
          raw: `${fmt(rawRate)} jobs/s`,
          ratio,
          goal: GOAL.text,
          met: meets(ratio, GOAL),
          notes: `${fmt(last.workerCommandsPerRun.total)} worker commands/run vs ${fmt(lastRaw.workerCommandsPerRun.total)} raw; Redis calls/run ${fmt(last.serverCallsPerRun.total)} vs ${fmt(lastRaw.serverCallsPerRun.total)}; Redis CPU/run ${fmt(last.redisCpuUsPerRun)} µs vs ${fmt(lastRaw.redisCpuUsPerRun)} µs`,
        },
        {
          scenario: `dispatch, ${pad.toLocaleString('en')} other jobs in the registry`,
          cronbundle: `${fmt(padded.perSecond)} runs/s`,
          raw: `${fmt(rawRate)} jobs/s`,
          ratio: padded.perSecond / rawRate,
          goal: GOAL.text,
          met: meets(padded.perSecond / rawRate, GOAL),
          notes: `${fmt(padded.workerCommandsPerRun.total)} worker commands/run (${Object.entries(
            padded.workerCommandsPerRun.byCommand,
          )
            .slice(0, 3)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`,
        },
        {
          scenario: `what-if (not shipped): same, dependants looked up by index`,
          cronbundle: `${fmt(indexed.perSecond)} runs/s`,
          raw: `${fmt(rawRate)} jobs/s`,
          ratio: indexed.perSecond / rawRate,
          goal: GOAL.text,
          met: meets(indexed.perSecond / rawRate, GOAL),
          notes: `bench-only override of DependencyTrigger (one SMEMBERS per run): ${fmt(indexed.workerCommandsPerRun.total)} worker commands/run`,
        },
      ],
      details: {
        indexed: { definitions: pad, ...indexed, def: undefined },
        padded: { definitions: pad, ...padded, def: undefined },
        n,
        rounds,
        concurrency: CONCURRENCY,
        raw,
        cronbundle: cb.map(({ def: _def, ...r }) => r),
      },
    };
  },
};

/**
 * Redis bytes of one retained execution: MEMORY USAGE of a sample of records (hash + log list)
 * plus each record's share of the job's index keys.
 */
async function bytesPerRecord(
  ctx: BenchContext,
  ids: string[],
  keyOf: (id: string) => string,
  indexKeys: string[],
): Promise<number> {
  const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 200)) === 0).slice(0, 200);
  let total = 0;
  for (const id of sample) {
    total += Number((await ctx.redis.memory('USAGE', keyOf(id), 'SAMPLES', 0)) ?? 0);
    total += Number((await ctx.redis.memory('USAGE', `${keyOf(id)}:logs`, 'SAMPLES', 0)) ?? 0);
  }
  let index = 0;
  for (const k of indexKeys) index += Number((await ctx.redis.memory('USAGE', k, 'SAMPLES', 0)) ?? 0);
  return Math.round(total / Math.max(1, sample.length) + index / Math.max(1, ids.length));
}
