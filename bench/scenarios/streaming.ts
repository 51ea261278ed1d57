import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Scenario } from '../lib/context';
import { bullConnection, registryOf, runsQueue, scheduledRun } from '../lib/cronbundle';
import { Proc, ProcSet, waitUntil } from '../lib/harness';
import { fmt, fmtBytes, meets, type Goal } from '../lib/stats';

const SPEED_GOAL: Goal = { better: 'higher', limit: 0.8, text: '≥ 0.8× tar' };
const RSS_GOAL: Goal = { better: 'lower', limit: 200 * 1024 * 1024, text: 'RSS ≤ 200 MB' };
const MiB = 1024 * 1024;

/**
 * `totalBytes` of log-like text in 64 MiB files (compresses about like real logs: ~4:1), written
 * from a small PRNG so generation is cheap and deterministic.
 */
async function makeFiles(dir: string, totalBytes: number): Promise<{ bytes: number; files: string[] }> {
  const fileBytes = Math.min(64 * MiB, totalBytes);
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const words = [
    'GET',
    'POST',
    '/api/v1/jobs',
    'status=200',
    'status=500',
    'latency_ms',
    'worker',
    'redis',
    'ok',
    'error',
  ];
  let written = 0;
  const files: string[] = [];
  for (let f = 0; written < totalBytes; f++) {
    const file = join(dir, `log-${String(f).padStart(3, '0')}.log`);
    files.push(file);
    const out = createWriteStream(file);
    let size = 0;
    while (size < fileBytes && written + size < totalBytes) {
      const lines: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const w = Array.from({ length: 6 }, () => words[Math.floor(rand() * words.length)]).join(' ');
        lines.push(
          `2026-11-29T12:${String(i % 60).padStart(2, '0')}:00.${Math.floor(rand() * 1e6)}Z ${w} id=${Math.floor(rand() * 1e9).toString(36)}`,
        );
      }
      const chunk = `${lines.join('\n')}\n`;
      size += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
    written += size;
  }
  return { bytes: written, files };
}

function tarCzf(src: string, out: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('tar', ['czf', out, '-C', src, '.'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`tar czf exited ${code}`)),
    );
  });
}

export const streaming: Scenario = {
  name: 'streaming',
  what: 'a large directory collected (copy collector), gzipped and written to file:// by the built worker: MB/s vs `tar czf`, and the worker peak RSS',
  async run(ctx) {
    const total = ctx.quick ? 128 * MiB : 1024 * MiB;
    const work = mkdtempSync(join(tmpdir(), 'cronbundle-bench-stream-'));
    const src = join(work, 'src');
    const uploads = join(work, 'uploads');
    mkdirSync(src);
    mkdirSync(uploads);
    const procs = new ProcSet();
    const connection = bullConnection(ctx.redisUrl);
    const prefix = 'cbs';
    const queue = runsQueue(connection, prefix);
    try {
      const { bytes, files } = await makeFiles(src, total);
      ctx.log(`  ${fmtBytes(bytes)} of files written`);
      // tar czf twice (the machine is shared): the faster one counts.
      const tarRuns: number[] = [];
      for (let i = 0; i < 2; i++) tarRuns.push(await tarCzf(src, join(work, 'tar.tar.gz')));
      const tarMs = Math.min(...tarRuns);
      const tarBytes = statSync(join(work, 'tar.tar.gz')).size;
      rmSync(join(work, 'tar.tar.gz'));
      ctx.log(`  tar czf: ${tarRuns.map(Math.round).join(', ')} ms → ${fmtBytes(tarBytes)}`);

      const { registry, keys } = registryOf(ctx.redis, prefix);
      const def = await registry.create({
        id: 'big',
        schedule: { cron: '0 0 1 1 *' },
        retry: { attempts: 1, backoffSeconds: 0 },
        timeoutSeconds: 3600,
        analyze: false,
        redact: false,
        limits: { maxBundleBytes: 4 * 1024 * MiB },
        spec: {
          apiVersion: 'troubleshoot.sh/v1beta2',
          kind: 'SupportBundle',
          // One copy collector per 64 MiB file: a collector's output is capped at 100 MiB
          // (libs/collect maxCollectorBytes), so one collector for the directory would truncate.
          spec: { hostCollectors: files.map((path, i) => ({ copy: { collectorName: `logs-${i}`, path } })) },
        },
      });
      const worker = procs.add(
        await Proc.app('worker', {
          REDIS_URL: ctx.redisUrl,
          CRONBUNDLE_PREFIX: prefix,
          LOG_LEVEL: 'warn',
          COLLECT_ALLOWED_PATHS: src,
          UPLOAD_DEFAULT_URL: pathToFileURL(uploads).href,
        }),
      );
      await worker.waitReady();
      const idle = worker.memory();
      const slot = Date.UTC(2030, 0, 1);
      const run = scheduledRun(def, slot, 0);
      const started = performance.now();
      let peak = idle.rss;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, worker.memory().rss);
        } catch {
          // exited
        }
      }, 100);
      await queue.add(run.name, run.data, run.opts);
      const execId = await waitUntil(
        () => ctx.redis.hget(keys.jobSlots(def.id), String(slot)).then((v) => v ?? undefined),
        'the execution record',
        60_000,
      );
      const status = await waitUntil(
        async () => {
          const s = await ctx.redis.hget(keys.exec(execId), 'status');
          return s && !['queued', 'running'].includes(s) ? s : undefined;
        },
        'the run to finish',
        30 * 60_000,
        100,
      );
      const ms = performance.now() - started;
      clearInterval(sampler);
      const record = await ctx.redis.hgetall(keys.exec(execId));
      if (status !== 'succeeded') throw new Error(`the run ended ${status}: ${record.error ?? record.reason ?? ''}`);
      const hwm = worker.memory().peak;
      const bundle = JSON.parse(record.bundle ?? '{}') as { sizeBytes?: number };
      const collectors = JSON.parse(record.collectors ?? '{}') as { total?: number; failed?: number };
      // Same bytes in, same gzip: a bundle much smaller than tar's archive lost data on the way.
      if (!bundle.sizeBytes || bundle.sizeBytes < tarBytes * 0.8)
        throw new Error(
          `the bundle (${fmtBytes(bundle.sizeBytes ?? 0)}) is much smaller than tar's (${fmtBytes(tarBytes)}): truncated? collectors ${record.collectors}`,
        );
      const cbRate = bytes / MiB / (ms / 1000);
      const tarRate = bytes / MiB / (tarMs / 1000);
      const ratio = cbRate / tarRate;
      ctx.log(`  cronbundle: ${Math.round(ms)} ms → ${fmtBytes(bundle.sizeBytes ?? NaN)}, peak RSS ${fmtBytes(hwm)}`);
      const stages = Object.fromEntries(
        Object.entries(record)
          .filter(([k]) => k.startsWith('stage:'))
          .map(([k, v]) => [k.slice(6), Number(v)]),
      );
      return {
        rows: [
          {
            scenario: `bundle streaming (${fmtBytes(bytes)} → tar.gz → file://)`,
            cronbundle: `${fmt(cbRate)} MB/s`,
            raw: `tar czf ${fmt(tarRate)} MB/s`,
            ratio,
            goal: SPEED_GOAL.text,
            met: meets(ratio, SPEED_GOAL),
            notes: `stage ms ${JSON.stringify(stages)}; bundle ${fmtBytes(bundle.sizeBytes ?? NaN)} vs tar ${fmtBytes(tarBytes)}; ${collectors.total} collectors, ${collectors.failed} failed`,
          },
          {
            scenario: 'bundle streaming: worker peak RSS',
            cronbundle: `${fmtBytes(hwm)} (idle before: ${fmtBytes(idle.rss)})`,
            raw: 'n/a',
            goal: RSS_GOAL.text,
            met: meets(hwm, RSS_GOAL),
          },
        ],
        details: {
          bytes,
          tarRunsMs: tarRuns.map(Math.round),
          tarMs: Math.round(tarMs),
          tarBytes,
          ms: Math.round(ms),
          stages,
          bundleBytes: bundle.sizeBytes,
          idleRss: idle.rss,
          peakRss: hwm,
          sampledPeakRss: peak,
        },
      };
    } finally {
      await procs.stopAll();
      await queue.close();
      connection.disconnect();
      rmSync(work, { recursive: true, force: true });
    }
  },
};
