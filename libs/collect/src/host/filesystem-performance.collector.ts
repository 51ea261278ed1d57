import { mkdtemp, open, realpath, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { defineCollector } from '../framework/collector.types';
import { isWithin } from '../framework/references';
import type { HostCollectorSpec } from '../spec/collector-schemas';
import { parseGoDuration } from '../spec/duration';

export type FilesystemPerformanceSpec = HostCollectorSpec<'filesystemPerformance'>;

/** Bounds of the probe, whatever the spec asks: it measures latency, it is not a load test. */
export const FS_PROBE_LIMITS = {
  maxOps: 1000,
  maxOperationSize: 1024 * 1024,
  maxBytes: 16 * 1024 * 1024,
  /** Time budget when the spec sets no `timeout`/`runTime`. */
  defaultTimeMs: 10_000,
} as const;

/** troubleshoot's defaults: 1 KiB writes into a 10 MiB file (fio `--bs=1024 --size=10485760`). */
const DEFAULT_OPERATION_SIZE = 1024;
const DEFAULT_FILE_SIZE = 10 * 1024 * 1024;

/** The percentiles fio reports, keyed as fio's JSON keys them (troubleshoot's FioPercentile). */
const PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

/** fio's latency block (`lat_ns`), the part troubleshoot's filesystemPerformance analyzer reads. */
export interface LatencyStats {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  N: number;
  percentile: Record<string, number>;
}

/**
 * Kubernetes-style quantity (troubleshoot parses `fileSize` with resource.ParseQuantity):
 * `10Mi`, `10M`, `1.5Gi`, `4096`. Undefined when it does not parse.
 */
export function parseQuantity(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|k|K|M|G|T)?\s*$/.exec(text);
  if (!m) return undefined;
  const factor: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (m[2] ? factor[m[2]]! : 1));
}

/** Nearest-rank percentile on sorted values (troubleshoot's getPercentileIndex: ceil(p·n) − 1). */
export function latencyStats(samplesNs: readonly number[]): LatencyStats {
  const sorted = [...samplesNs].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { min: 0, max: 0, mean: 0, stddev: 0, N: 0, percentile: {} };
  const mean = sorted.reduce((s, v) => s + v, 0) / n;
  const variance = sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  const percentile: Record<string, number> = {};
  for (const p of PERCENTILES) {
    const index = p >= 100 ? n - 1 : Math.max(0, Math.ceil((p / 100) * n) - 1);
    percentile[p.toFixed(6)] = sorted[index]!;
  }
  return {
    min: sorted[0]!,
    max: sorted[n - 1]!,
    mean: Math.round(mean),
    stddev: Math.round(Math.sqrt(variance)),
    N: n,
    percentile,
  };
}

export interface ProbePlan {
  operationSize: number;
  ops: number;
  timeMs: number;
  /** fdatasync (troubleshoot/fio's `fdatasync=1`) unless the spec asks for `sync` without `datasync`. */
  syncCall: 'fdatasync' | 'fsync';
}

export function probePlan(spec: FilesystemPerformanceSpec, collectorTimeoutMs: number): ProbePlan {
  const operationSize = Math.min(
    spec.operationSize && spec.operationSize > 0 ? spec.operationSize : DEFAULT_OPERATION_SIZE,
    FS_PROBE_LIMITS.maxOperationSize,
  );
  let fileSize = DEFAULT_FILE_SIZE;
  if (spec.fileSize !== undefined) {
    const parsed = parseQuantity(spec.fileSize);
    if (parsed === undefined || parsed <= 0) throw new Error(`fileSize "${spec.fileSize}" is not a positive quantity`);
    fileSize = parsed;
  }
  fileSize = Math.min(fileSize, FS_PROBE_LIMITS.maxBytes);
  const ops = Math.max(1, Math.min(Math.floor(fileSize / operationSize), FS_PROBE_LIMITS.maxOps));
  const asked = [spec.timeout, spec.runTime]
    .map((d) => (d ? parseGoDuration(/^\d+$/.test(d) ? `${d}s` : d) : undefined))
    .filter((d): d is number => d !== undefined);
  // Leave the collector's deadline room to clean up and write the result.
  const timeMs = Math.max(
    1,
    Math.min(asked.length ? Math.min(...asked) : FS_PROBE_LIMITS.defaultTimeMs, collectorTimeoutMs * 0.8),
  );
  return { operationSize, ops, timeMs, syncCall: spec.sync && !spec.datasync ? 'fsync' : 'fdatasync' };
}

export interface ProbeResult {
  writeNs: number[];
  syncNs: number[];
  bytes: number;
  runtimeMs: number;
}

/**
 * Write `plan.ops` blocks of `plan.operationSize` bytes sequentially into a fresh file in `dir`,
 * each followed by fdatasync/fsync, timing both; stops early when the time budget or `signal` ends.
 * The file is removed afterwards.
 */
export async function runFsyncProbe(dir: string, plan: ProbePlan, signal: AbortSignal): Promise<ProbeResult> {
  const work = await mkdtemp(join(dir, '.cronbundle-fsperf-'));
  const file = join(work, 'fsperf');
  const started = performance.now();
  const deadline = started + plan.timeMs;
  const writeNs: number[] = [];
  const syncNs: number[] = [];
  let bytes = 0;
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      const block = Buffer.alloc(plan.operationSize, 0x5a);
      for (let i = 0; i < plan.ops && !signal.aborted && performance.now() < deadline; i++) {
        const t0 = process.hrtime.bigint();
        const { bytesWritten } = await handle.write(block, 0, block.length, i * block.length);
        const t1 = process.hrtime.bigint();
        await (plan.syncCall === 'fsync' ? handle.sync() : handle.datasync());
        const t2 = process.hrtime.bigint();
        bytes += bytesWritten;
        writeNs.push(Number(t1 - t0));
        syncNs.push(Number(t2 - t1));
      }
    } finally {
      await handle.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { writeNs, syncNs, bytes, runtimeMs: Math.round(performance.now() - started) };
}

/** The directory, resolved through symlinks, when it exists below one of `allowedPaths`. */
export async function allowedProbeDirectory(directory: string | undefined, allowedPaths: string[]): Promise<string> {
  if (!directory) throw new Error('directory is required to collect filesystem performance');
  if (!isAbsolute(directory)) throw new Error(`directory must be absolute: ${directory}`);
  const real = await realpath(directory).catch(() => {
    throw new Error(`directory ${directory} does not exist`);
  });
  if (!(await stat(real)).isDirectory()) throw new Error(`directory ${directory} is not a directory`);
  const roots = (await Promise.all(allowedPaths.map((p) => realpath(resolve(p)).catch(() => undefined)))).filter(
    (r): r is string => r !== undefined,
  );
  if (!roots.some((root) => isWithin(root, real)))
    throw new Error(`directory ${directory} is outside the allowed paths (allowedPaths / COLLECT_ALLOWED_PATHS)`);
  return real;
}

/**
 * troubleshoot's `filesystemPerformance` without fio: a bounded fdatasync latency probe in a temp
 * directory under `directory`, written as the fio JSON troubleshoot saves
 * (`host-collectors/filesystemPerformance/<name>.json`, job `fsperf`, latencies in `sync.lat_ns`),
 * so troubleshoot's analyzer reads it.
 */
export const filesystemPerformanceCollector = defineCollector<FilesystemPerformanceSpec>({
  type: 'filesystemPerformance',
  scope: 'host',
  defaultTitle: 'Filesystem Performance',
  async collect(ctx) {
    const dir = await allowedProbeDirectory(ctx.spec.directory, ctx.policy.allowedPaths);
    const plan = probePlan(ctx.spec, ctx.limits.timeoutMs);
    if (ctx.spec.enableBackgroundIOPS)
      ctx.log('warn', 'enableBackgroundIOPS is not supported; measuring without background load');
    const probe = await runFsyncProbe(dir, plan, ctx.signal);
    if (probe.syncNs.length === 0) throw new Error('no write completed within the time budget');
    const sync = latencyStats(probe.syncNs);
    const write = latencyStats(probe.writeNs);
    const directory = ctx.rawSpec.directory ?? '';
    await ctx.output.addJson(
      `host-collectors/filesystemPerformance/${ctx.rawSpec.collectorName || 'filesystemPerformance'}.json`,
      {
        'fio version': 'cronbundle-fsync-probe',
        'global options': { directory, ioengine: 'sync' },
        jobs: [
          {
            jobname: 'fsperf',
            elapsed: Math.max(1, Math.round(probe.runtimeMs / 1000)),
            'job options': {
              name: 'fsperf',
              bs: String(plan.operationSize),
              directory,
              rw: 'write',
              ioengine: 'sync',
              ...(plan.syncCall === 'fdatasync' ? { fdatasync: '1' } : {}),
              size: String(plan.operationSize * plan.ops),
            },
            write: {
              io_bytes: probe.bytes,
              io_kbytes: Math.floor(probe.bytes / 1024),
              total_ios: probe.writeNs.length,
              runtime: probe.runtimeMs,
              iops: probe.runtimeMs > 0 ? (probe.writeNs.length * 1000) / probe.runtimeMs : 0,
              lat_ns: write,
            },
            sync: { total_ios: probe.syncNs.length, lat_ns: sync },
            job_runtime: probe.runtimeMs,
          },
        ],
      },
    );
  },
});
