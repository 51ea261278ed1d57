import { Queue } from 'bullmq';
import type { JobDefinition } from '@cronbundle/core';
import { runJobOptions } from '@cronbundle/queue';
import type { Scenario } from '../lib/context';
import { bullConnection, callsPer, registryOf, round } from '../lib/cronbundle';
import { commandstats, Proc, ProcSet, sleep, usedMemory } from '../lib/harness';
import { fmt, fmtBytes, meets, type Goal } from '../lib/stats';

const RATIO_GOAL: Goal = { better: 'higher', limit: 0.8, text: '≥ 0.8× raw' };
const TIME_GOAL: Goal = { better: 'lower', limit: 2000, text: '≤ 2 s' };
const RSS_GOAL: Goal = { better: 'lower', limit: 120 * 1024 * 1024, text: '≤ 120 MB' };
const BYTES_GOAL: Goal = { better: 'lower', limit: 2048, text: '≤ 2 KB per job' };

export function definitions(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `job-${String(i).padStart(5, '0')}`,
    // Slots spread over the hour, so the schedulers' next jobs are spread too.
    schedule: { cron: `${i % 60} ${Math.floor(i / 60) % 24} * * *` },
    retry: { attempts: 3, backoffSeconds: 30 },
  }));
}

export const reconcile: Scenario = {
  name: 'reconcile',
  what: 'N definitions in the registry → BullMQ job schedulers (scheduler leader, first pass) vs a raw upsertJobScheduler loop',
  async run(ctx) {
    const n = 10_000;
    const defs = definitions(n);

    // raw BullMQ: one awaited upsertJobScheduler per definition, same pattern, data and options.
    const connection = bullConnection(ctx.redisUrl);
    const queue = new Queue('runs', { connection, prefix: 'rawr' });
    const { registry } = registryOf(ctx.redis, 'cbr');
    const parsed = (await registry.createMany(defs.slice(0, 1))).created[0] as JobDefinition;
    const options = runJobOptions(parsed);
    await ctx.redis.flushall();
    let memBefore = await usedMemory(ctx.redis);
    await ctx.redis.config('RESETSTAT');
    let before = await commandstats(ctx.redis);
    const rawStarted = performance.now();
    for (const d of defs) {
      await queue.upsertJobScheduler(
        d.id,
        { pattern: d.schedule.cron, tz: 'UTC' },
        { name: 'run', data: { jobId: d.id, trigger: 'schedule' }, opts: options },
      );
    }
    const rawMs = Math.round(performance.now() - rawStarted);
    const rawCalls = await callsPer(ctx.redis, before, n);
    const rawBytesPerScheduler = Math.round(((await usedMemory(ctx.redis)) - memBefore) / n);
    // What the same upserts cost with 100 in flight (ioredis pipelines them on one connection):
    // the bound for a reconcile that stops awaiting each upsert before sending the next.
    await ctx.redis.flushall();
    const parallelStarted = performance.now();
    for (let i = 0; i < n; i += 100) {
      await Promise.all(
        defs
          .slice(i, i + 100)
          .map((d) =>
            queue.upsertJobScheduler(
              d.id,
              { pattern: d.schedule.cron, tz: 'UTC' },
              { name: 'run', data: { jobId: d.id, trigger: 'schedule' }, opts: options },
            ),
          ),
      );
    }
    const rawParallelMs = Math.round(performance.now() - parallelStarted);
    ctx.log(`  raw, 100 in flight: ${n} upserts in ${rawParallelMs} ms`);
    await queue.close();
    connection.disconnect();
    ctx.log(`  raw: ${n} upserts in ${rawMs} ms`);

    // cronbundle: the definitions in the registry, then a scheduler that becomes leader and reconciles.
    await ctx.redis.flushall();
    memBefore = await usedMemory(ctx.redis);
    for (let i = 0; i < n; i += 1000) await registry.createMany(defs.slice(i, i + 1000));
    const registryBytesPerJob = Math.round(((await usedMemory(ctx.redis)) - memBefore) / n);
    const memAfterRegistry = await usedMemory(ctx.redis);
    const procs = new ProcSet();
    try {
      await ctx.redis.config('RESETSTAT');
      before = await commandstats(ctx.redis);
      const nodeArgs = ctx.profile ? [`--cpu-prof`, `--cpu-prof-dir=${ctx.resultsDir}/profiles`] : [];
      const scheduler = procs.add(
        await Proc.app(
          'scheduler',
          { REDIS_URL: ctx.redisUrl, CRONBUNDLE_PREFIX: 'cbr', LOG_LEVEL: 'info' },
          'scheduler',
          nodeArgs,
        ),
      );
      const { value: line } = await scheduler.waitForLog('reconciled', 'the first reconcile', 120_000);
      const cbMs = Number(line.ms);
      if (Number(line.upserted) !== n) throw new Error(`reconcile upserted ${String(line.upserted)}, not ${n}`);
      const cbCalls = await callsPer(ctx.redis, before, n);
      const schedulerBytesPerJob = Math.round(((await usedMemory(ctx.redis)) - memAfterRegistry) / n);
      // Scheduler RSS with n jobs: after the first pass and a few slot sweeps (every 2 s).
      await sleep(ctx.quick ? 4000 : 10_000);
      const rss = scheduler.memory();
      ctx.shared.schedulerRss10k = rss.rss;
      ctx.shared.registryBytesPerJob = registryBytesPerJob;
      ctx.shared.schedulerBytesPerJob = schedulerBytesPerJob;
      ctx.shared.rawBytesPerScheduler = rawBytesPerScheduler;
      ctx.log(`  cronbundle: reconcile ${cbMs} ms, scheduler RSS ${fmtBytes(rss.rss)}`);
      const ratio = rawMs / cbMs;
      const bytesPerJob = registryBytesPerJob + schedulerBytesPerJob;
      return {
        rows: [
          {
            scenario: `reconcile ${n.toLocaleString('en')} definitions`,
            cronbundle: `${fmt(cbMs / 1000)} s (${fmt((n / cbMs) * 1000)} defs/s)`,
            raw: `${fmt(rawMs / 1000)} s (${fmt((n / rawMs) * 1000)} defs/s)`,
            ratio,
            goal: `${RATIO_GOAL.text}; ${TIME_GOAL.text}`,
            met: meets(ratio, RATIO_GOAL) && meets(cbMs, TIME_GOAL),
            notes: `Redis calls per definition ${fmt(cbCalls.total)} vs ${fmt(rawCalls.total)} raw (one awaited upsert per definition: round-trip bound); raw with 100 upserts in flight: ${fmt(rawParallelMs / 1000)} s`,
          },
          {
            scenario: `memory: scheduler RSS with ${n.toLocaleString('en')} jobs`,
            cronbundle: fmtBytes(rss.rss),
            raw: 'n/a',
            goal: RSS_GOAL.text,
            met: meets(rss.rss, RSS_GOAL),
          },
          {
            scenario: 'memory: Redis bytes per job definition',
            cronbundle: `${fmtBytes(bytesPerJob)} (registry ${fmtBytes(registryBytesPerJob)} + scheduler ${fmtBytes(schedulerBytesPerJob)})`,
            raw: `${fmtBytes(rawBytesPerScheduler)} (job scheduler only)`,
            ratio: bytesPerJob / rawBytesPerScheduler,
            goal: BYTES_GOAL.text,
            met: meets(bytesPerJob, BYTES_GOAL),
          },
        ],
        details: {
          n,
          rawMs,
          rawParallelMs,
          cronbundleMs: cbMs,
          rawCallsPerDefinition: rawCalls,
          cronbundleCallsPerDefinition: cbCalls,
          registryBytesPerJob,
          schedulerBytesPerJob,
          rawBytesPerScheduler,
          schedulerRss: rss,
          ratio: round(ratio),
        },
      };
    } finally {
      await procs.stopAll();
    }
  },
};
