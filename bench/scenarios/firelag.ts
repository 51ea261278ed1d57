import { Queue } from 'bullmq';
import { slotsBetween } from '@cronbundle/core';
import type { BenchContext, Scenario } from '../lib/context';
import { bullConnection, registryOf, round } from '../lib/cronbundle';
import { parseLog, Proc, ProcSet, sleep } from '../lib/harness';
import type { ResultRow } from '../lib/stats';
import { fmt, meets, percentile, type Goal } from '../lib/stats';

const SPREAD_GOAL: Goal = { better: 'lower', limit: 0.5, text: 'p99 ≤ 0.5× raw' };
const BURST_GOAL: Goal = { better: 'lower', limit: 1.0, text: '≤ 1.0× raw' };

interface Load {
  name: string;
  /** Cron (6 fields, seconds first) of job i. */
  cron: (i: number) => string;
  jobs: number;
  /** Observed window [t0, t0 + windowMs). */
  windowMs: number;
}

interface LagResult {
  expected: number;
  started: number;
  p50: number;
  p99: number;
  max: number;
  /** Last start − first slot: time until every run of the window started. */
  allStartedMs: number;
}

function summarize(lags: number[], starts: number[], t0: number, expected: number): LagResult {
  return {
    expected,
    started: lags.length,
    p50: percentile(lags, 50),
    p99: percentile(lags, 99),
    max: percentile(lags, 100),
    allStartedMs: starts.length ? Math.max(...starts) - t0 : NaN,
  };
}

/** Slots of job i inside the window, by libs/core's cron maths (the same for both sides). */
function slotSet(load: Load, t0: number): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (let i = 0; i < load.jobs; i++) {
    const slots = slotsBetween({ cron: load.cron(i), timezone: 'UTC' }, t0 - 1, t0 + load.windowMs - 1, 10_000);
    out.set(jobId(i), new Set(slots));
  }
  return out;
}

const jobId = (i: number) => `lag-${String(i).padStart(5, '0')}`;
const count = (slots: Map<string, Set<number>>) => [...slots.values()].reduce((s, v) => s + v.size, 0);

/** The window starts on a whole second far enough ahead for the schedulers to be in place. */
function windowStart(leadMs: number): number {
  return Math.ceil((Date.now() + leadMs) / 1000) * 1000;
}

async function rawLag(ctx: BenchContext, load: Load, leadMs: number, fixedT0?: number): Promise<LagResult> {
  await ctx.redis.flushall();
  const procs = new ProcSet();
  const connection = bullConnection(ctx.redisUrl);
  const queue = new Queue('lag', { connection, prefix: 'rawl' });
  try {
    const worker = procs.add(
      await Proc.script(
        'procs/raw-worker.ts',
        { REDIS_URL: ctx.redisUrl, PREFIX: 'rawl', QUEUE: 'lag', CONCURRENCY: '100', REPORT_STARTS: 'true' },
        'raw-worker',
      ),
    );
    await worker.waitForLine((l) => l === 'ready', 'ready');
    const t0 = fixedT0 ?? windowStart(leadMs);
    for (let i = 0; i < load.jobs; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, load.jobs - i) }, (_, k) =>
          queue.upsertJobScheduler(jobId(i + k), { pattern: load.cron(i + k), tz: 'UTC' }, { name: 'run', data: {} }),
        ),
      );
    }
    if (Date.now() > t0 - 500) throw new Error(`raw: upserting ${load.jobs} schedulers took past the window start`);
    const slots = slotSet(load, t0);
    const expected = count(slots);
    const lags: number[] = [];
    const starts: number[] = [];
    const off = worker.onLine((line) => {
      const m = /^start repeat:(.+):(\d+) (\d+)$/.exec(line);
      if (!m || !slots.get(m[1])?.has(Number(m[2]))) return;
      lags.push(Number(m[3]) - Number(m[2]));
      starts.push(Number(m[3]));
    });
    await waitAll(() => lags.length >= expected, t0 + load.windowMs);
    off();
    return summarize(lags, starts, t0, expected);
  } finally {
    await procs.stopAll();
    await queue.close();
    connection.disconnect();
  }
}

/** Wait until `done()` or 30 s past the window's end. */
async function waitAll(done: () => boolean, windowEnd: number): Promise<void> {
  while (!done() && Date.now() < windowEnd + 30_000) await sleep(100);
}

async function cronbundleLag(ctx: BenchContext, load: Load, leadMs: number, fixedT0?: number): Promise<LagResult> {
  await ctx.redis.flushall();
  const prefix = 'cbl';
  const procs = new ProcSet();
  const { registry, keys } = registryOf(ctx.redis, prefix);
  try {
    const defs = Array.from({ length: load.jobs }, (_, i) => ({
      id: jobId(i),
      schedule: { cron: load.cron(i) },
      overlapPolicy: 'allow',
      retry: { attempts: 1, backoffSeconds: 0 },
      analyze: false,
      redact: false,
    }));
    for (let i = 0; i < defs.length; i += 1000) await registry.createMany(defs.slice(i, i + 1000));
    const env = { REDIS_URL: ctx.redisUrl, CRONBUNDLE_PREFIX: prefix, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '100' };
    const workerEnv = { ...env, LOG_LEVEL: 'warn', ...(ctx.dependentsIndex ? { BENCH_DEPENDENTS_INDEX: 'true' } : {}) };
    const worker = procs.add(await Proc.script('procs/noop-worker.ts', workerEnv, 'noop-worker'));
    await worker.waitReady();
    const scheduler = procs.add(await Proc.app('scheduler', env));
    await scheduler.waitForLine((l) => parseLog(l)?.msg === 'reconciled', 'the first reconcile', leadMs);
    const t0 = fixedT0 ?? windowStart(1000);
    if (Date.now() > t0 - 200) throw new Error('cronbundle: the first reconcile ended after the window start');
    const slots = slotSet(load, t0);
    const expected = count(slots);
    const windowEnd = t0 + load.windowMs;
    // Poll the slot indexes until every slot of the window has a started record.
    const lags: number[] = [];
    const starts: number[] = [];
    const seen = new Set<string>();
    const collect = async () => {
      const pipeline = ctx.redis.pipeline();
      const wanted: [string, number][] = [];
      for (const [id, set] of slots)
        for (const slot of set)
          if (!seen.has(`${id}:${slot}`) && slot <= Date.now()) {
            wanted.push([id, slot]);
            pipeline.hget(keys.jobSlots(id), String(slot));
          }
      const execIds = ((await pipeline.exec()) ?? []).map(([, v]) => v as string | null);
      const p2 = ctx.redis.pipeline();
      const present: [string, number][] = [];
      execIds.forEach((e, i) => {
        if (e) {
          present.push(wanted[i]);
          p2.hget(keys.exec(e), 'startedAt');
        }
      });
      const startedAt = ((await p2.exec()) ?? []).map(([, v]) => v as string | null);
      startedAt.forEach((s, i) => {
        if (!s) return;
        const [id, slot] = present[i];
        seen.add(`${id}:${slot}`);
        const at = Date.parse(s);
        lags.push(at - slot);
        starts.push(at);
      });
    };
    while (seen.size < expected && Date.now() < windowEnd + 30_000) {
      await sleep(1000);
      await collect();
    }
    // Only the window's slots count; later slots keep firing until the processes stop.
    return summarize(lags, starts, t0, expected);
  } finally {
    await procs.stopAll();
  }
}

export const fireLag: Scenario = {
  name: 'firelag',
  what: 'start − scheduledFor of cron slots (spread, every 2 s, burst) with a leader scheduler and a no-op-stage worker, vs raw BullMQ job schedulers',
  async run(ctx) {
    const q = ctx.quick;
    const loads: Load[] = q
      ? [{ name: 'spread', jobs: 300, cron: (i) => `${i % 10}/10 * * * * *`, windowMs: 10_000 }]
      : [
          { name: 'spread', jobs: 10_000, cron: (i) => `${i % 60} * * * * *`, windowMs: 60_000 },
          { name: 'every 2 s', jobs: 1000, cron: () => '*/2 * * * * *', windowMs: 20_000 },
        ];
    const rows: ResultRow[] = [];
    const details: Record<string, unknown> = {};
    for (const load of loads) {
      const lead = load.jobs >= 5000 ? 30_000 : 4000;
      const raw = await rawLag(ctx, load, lead);
      ctx.log(`  ${load.name}: raw p50 ${raw.p50} p99 ${raw.p99} ms (${raw.started}/${raw.expected})`);
      const cb = await cronbundleLag(ctx, load, lead + 30_000);
      ctx.log(`  ${load.name}: cronbundle p50 ${cb.p50} p99 ${cb.p99} ms (${cb.started}/${cb.expected})`);
      details[load.name] = { jobs: load.jobs, windowMs: load.windowMs, raw, cronbundle: cb };
      const ratio = cb.p99 / raw.p99;
      rows.push({
        scenario: `${ctx.dependentsIndex ? 'what-if: ' : ''}fire lag, ${load.name} (${load.jobs.toLocaleString('en')} jobs, ${load.windowMs / 1000} s window)`,
        cronbundle: cb.started
          ? `p50 ${fmt(cb.p50)} ms, p99 ${fmt(cb.p99)} ms (${cb.started}/${cb.expected} started)`
          : `none of ${cb.expected} started within the window + 30 s`,
        raw: `p50 ${fmt(raw.p50)} ms, p99 ${fmt(raw.p99)} ms (${raw.started}/${raw.expected})`,
        ratio,
        goal: SPREAD_GOAL.text,
        met: cb.started === cb.expected && meets(ratio, SPREAD_GOAL),
      });
    }
    // Burst: every job due in the same second (a fixed second far enough ahead for each side's setup).
    const burstJobs = q ? 500 : 10_000;
    const burst = async (side: 'raw' | 'cronbundle') => {
      const setupMs = burstJobs >= 5000 ? 40_000 : 8000;
      const t0 = windowStart(setupMs);
      const at = new Date(t0);
      const load: Load = {
        name: 'burst',
        jobs: burstJobs,
        cron: () => `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`,
        windowMs: 1000,
      };
      return side === 'raw' ? rawLag(ctx, load, setupMs, t0) : cronbundleLag(ctx, load, setupMs, t0);
    };
    const rawBurst = await burst('raw');
    ctx.log(`  burst: raw all started after ${rawBurst.allStartedMs} ms (${rawBurst.started}/${rawBurst.expected})`);
    const cbBurst = await burst('cronbundle');
    ctx.log(
      `  burst: cronbundle all started after ${cbBurst.allStartedMs} ms (${cbBurst.started}/${cbBurst.expected})`,
    );
    details.burst = { jobs: burstJobs, raw: rawBurst, cronbundle: cbBurst };
    const burstRatio = cbBurst.allStartedMs / rawBurst.allStartedMs;
    rows.push({
      scenario: `${ctx.dependentsIndex ? 'what-if: ' : ''}fire lag, burst (${burstJobs.toLocaleString('en')} jobs due in one second): all started`,
      cronbundle: `${fmt(cbBurst.allStartedMs / 1000)} s (${cbBurst.started}/${cbBurst.expected})`,
      raw: `${fmt(rawBurst.allStartedMs / 1000)} s (${rawBurst.started}/${rawBurst.expected})`,
      ratio: burstRatio,
      goal: BURST_GOAL.text,
      met: cbBurst.started === cbBurst.expected && meets(burstRatio, BURST_GOAL),
    });
    return { rows, details: { ...details, ratio: round(burstRatio) } };
  },
};
