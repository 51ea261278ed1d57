import type { Writable } from 'node:stream';
import { BundleWriter, type BundleSummary } from '@cronbundle/bundle';
import { createDefaultRegistry } from './default-registry';
import {
  SUPPORT_BUNDLE_BINARY,
  SupportBundleNotInstalledError,
  findExecutable,
  importSupportBundle,
  runSupportBundle,
} from './external/support-bundle';
import { BundleBudget } from './framework/bundle-budget';
import type { CollectorRegistry } from './framework/collector-registry';
import type { BundleSink, HostPaths } from './framework/collector.types';
import type { ReferenceResolver } from './framework/references';
import { rm } from 'node:fs/promises';
import {
  runCollectors,
  type CollectEvent,
  type CollectorResult,
  type CollectorsSummary,
} from './framework/run-collectors';
import { parseSpec, type NormalizedSpec, type SpecInput } from './spec/spec-parser';

export interface CollectToBundleOptions {
  /** A parsed spec, or anything parseSpec accepts (a SpecError is thrown before any byte is written). */
  spec: NormalizedSpec | SpecInput;
  destination: Writable;
  /** Top folder in the archive; default `support-bundle-<UTC time>`. */
  bundleName?: string;
  /**
   * Uncompressed budget for what collectors write (`limits.maxBundleBytes`). Past it collection
   * stops, `execution-data/limits.json` records the truncated and skipped collectors, and the
   * bundle is still finalized.
   */
  maxBundleBytes?: number;
  /**
   * Run troubleshoot's `support-bundle` on the spec instead of cronbundle's collectors (also on when
   * the spec says `spec.external: true`); its archive's files become the bundle's.
   */
  external?: boolean;
  /** Name or path of the binary for external mode (default `support-bundle`, looked up on env.PATH). */
  supportBundleBinary?: string;
  allowRun?: boolean;
  allowedPaths?: string[];
  httpAllow?: string[];
  /** Files the caller adds (e.g. `metadata/user.json`), written after the collectors. */
  extraFiles?: { path: string; content: string | Buffer }[];
  signal?: AbortSignal;
  onProgress?: (event: CollectEvent) => void;
  resolver?: ReferenceResolver;
  /** Parent environment for `run` collectors (filtered there). */
  env?: Record<string, string | undefined>;
  concurrency?: number;
  collectorTimeoutMs?: number;
  maxCollectorBytes?: number;
  registry?: CollectorRegistry;
  /** version.yaml `spec.versionNumber`. */
  versionNumber?: string;
  tmpDir?: string;
  host?: Partial<HostPaths>;
  /**
   * Interpose on what collectors write, e.g. a redacting sink from libs/redact, before the bytes
   * reach the archive.
   */
  wrapSink?: (sink: BundleSink) => BundleSink;
  /** Runs after collection and before version/analysis are closed: return analyzer results. */
  beforeFinalize?: (collectors: CollectorsSummary) => Promise<{ analysis?: unknown[] } | void>;
  now?: () => Date;
}

export interface BundleLimitsReport {
  maxBundleBytes: number;
  /** True when the budget was spent and collection stopped. */
  exhausted: boolean;
  /** Collectors whose output was cut or dropped (`type "name"`). */
  truncatedCollectors: string[];
  /** Collectors not started because the budget was spent. */
  skippedCollectors: string[];
  truncatedFiles: string[];
}

export interface CollectToBundleResult {
  bundle: BundleSummary;
  collectors: CollectorsSummary;
  /** Present when a maxBundleBytes budget applied. */
  limits?: BundleLimitsReport;
}

/** Collect everything the spec asks for into one streaming troubleshoot-layout tar.gz. */
export async function collectToBundle(options: CollectToBundleOptions): Promise<CollectToBundleResult> {
  const spec = isNormalized(options.spec) ? options.spec : parseSpec(options.spec).spec;
  const external = options.external === true || spec.external === true;
  // support-bundle runs the spec's run/copy collectors itself, past cronbundle's allowlists.
  if (external && options.allowRun !== true)
    throw new Error(
      "external mode runs troubleshoot's support-bundle, which executes run/copy collectors without cronbundle's checks: it needs allowRun (COLLECT_ALLOW_RUN=true on the worker)",
    );
  const binary = options.supportBundleBinary ?? SUPPORT_BUNDLE_BINARY;
  // Checked before a byte is written: external mode without the binary is a setup error, not a run.
  const executable = external ? await findExecutable(binary, options.env?.PATH) : undefined;
  if (external && !executable) throw new SupportBundleNotInstalledError(binary);
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const started = performance.now();
  const writer = new BundleWriter({
    destination: options.destination,
    ...(options.bundleName !== undefined ? { name: options.bundleName } : {}),
    now: startedAt,
    ...(options.versionNumber !== undefined ? { versionNumber: options.versionNumber } : {}),
    ...(options.tmpDir !== undefined ? { tmpDir: options.tmpDir } : {}),
  });
  try {
    // The budget sits next to the archive, so it counts the bytes that land there (after redaction).
    const budget = options.maxBundleBytes !== undefined ? new BundleBudget(writer, options.maxBundleBytes) : undefined;
    const sink: BundleSink = options.wrapSink ? options.wrapSink(budget ?? writer) : (budget ?? writer);
    const collectors = executable
      ? await collectExternally(spec, sink, executable, options, now)
      : await runCollectors(spec, sink, {
          registry: options.registry ?? createDefaultRegistry(),
          ...pick(options, [
            'concurrency',
            'maxCollectorBytes',
            'allowRun',
            'allowedPaths',
            'httpAllow',
            'resolver',
            'env',
            'host',
            'signal',
            'onProgress',
          ]),
          ...(options.collectorTimeoutMs !== undefined ? { timeoutMs: options.collectorTimeoutMs } : {}),
          ...(budget ? { budgetExhausted: () => budget.exhausted } : {}),
          now,
        });
    throwIfAborted(options.signal);
    for (const file of options.extraFiles ?? []) await writer.addFile(file.path, file.content);
    const skipped = collectors.results.filter((r) => r.skipped && r.skipped !== 'cancelled');
    if (skipped.length > 0) {
      await writer.addJson(
        'skipped-collectors.json',
        skipped.map((r) => ({
          collector: r.name,
          reason: skipReason(r),
          errors: [],
          timestamp: startedAt.toISOString(),
        })),
      );
    }
    const limits = budget ? limitsReport(budget, collectors) : undefined;
    if (limits?.exhausted) await writer.addJson('execution-data/limits.json', limits);
    const finishing = await options.beforeFinalize?.(collectors);
    throwIfAborted(options.signal);
    await writer.addFile(
      'execution-data/summary.txt',
      summaryText(writer.name, startedAt, collectors, Math.round(performance.now() - started)),
    );
    const bundle = await writer.finalize(finishing?.analysis ? { analysis: finishing.analysis } : {});
    if (budget) bundle.truncated = [...budget.truncatedPaths];
    return { bundle, collectors, ...(limits ? { limits } : {}) };
  } catch (err) {
    await writer.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

function skipReason(r: CollectorResult): string {
  if (r.skipped === 'excluded') return 'excluded';
  if (r.skipped === 'budget') return 'bundle size limit (maxBundleBytes) reached';
  return `${r.scope} collector type "${r.type}" is not implemented by cronbundle yet`;
}

function limitsReport(budget: BundleBudget, collectors: CollectorsSummary): BundleLimitsReport {
  const label = (r: CollectorResult) => `${r.type} "${r.name}"`;
  return {
    maxBundleBytes: budget.maxBytes,
    exhausted: budget.exhausted,
    truncatedCollectors: collectors.results.filter((r) => r.truncated).map(label),
    skippedCollectors: collectors.results.filter((r) => r.skipped === 'budget').map(label),
    truncatedFiles: [...budget.truncatedPaths],
  };
}

/** External mode: one pseudo-collector, `support-bundle`, whose archive becomes the bundle's files. */
async function collectExternally(
  spec: NormalizedSpec,
  sink: BundleSink,
  executable: string,
  options: CollectToBundleOptions,
  now: () => Date,
): Promise<CollectorsSummary> {
  const name = SUPPORT_BUNDLE_BINARY;
  const emit = (event: CollectEvent) => {
    try {
      options.onProgress?.(event);
    } catch {
      // a broken progress listener must not break collection
    }
  };
  emit({ type: 'collector:start', collector: name, name, index: 0, total: 1 });
  const started = performance.now();
  let error: string | undefined;
  let truncated = false;
  try {
    const run = await runSupportBundle({
      spec,
      executable,
      env: options.env ?? {},
      ...(options.resolver ? { resolver: options.resolver } : {}),
      ...(options.tmpDir !== undefined ? { tmpDir: options.tmpDir } : {}),
      timeoutMs: options.collectorTimeoutMs ?? 30 * 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
      onLine: (line) => emit({ type: 'log', entry: { level: 'info', message: line, collector: name, name } }),
    });
    try {
      const imported = await importSupportBundle(run.archive, {
        addFile: async (path, content) => {
          const r = await sink.addFile(path, content);
          truncated ||= r.truncated;
          return r;
        },
        addStream: async (path, source, size, opts) => {
          const r = await sink.addStream(path, source, size, opts);
          truncated ||= r.truncated;
          return r;
        },
      });
      for (const s of imported.skipped)
        emit({
          type: 'log',
          entry: { level: 'warn', message: `not copied: ${s.path}: ${s.reason}`, collector: name, name },
        });
    } finally {
      await rm(run.dir, { recursive: true, force: true });
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    await sink
      .addFile(
        `host-collectors/errors/${name}-error.json`,
        JSON.stringify({ collector: name, error, timestamp: now().toISOString() }, null, 2),
      )
      .catch(() => undefined);
  }
  const ms = Math.round(performance.now() - started);
  emit({
    type: 'collector:end',
    collector: name,
    name,
    index: 0,
    total: 1,
    ms,
    ...(error !== undefined ? { error } : {}),
    ...(truncated ? { truncated: true } : {}),
  });
  const result: CollectorResult = {
    type: name,
    scope: 'host',
    name,
    ms,
    ...(error !== undefined ? { error } : {}),
    ...(truncated ? { truncated: true } : {}),
  };
  return { total: 1, failed: error !== undefined ? 1 : 0, skipped: 0, results: [result] };
}

function isNormalized(spec: NormalizedSpec | SpecInput): spec is NormalizedSpec {
  return (
    typeof spec === 'object' &&
    spec !== null &&
    !Array.isArray(spec) &&
    !('apiVersion' in spec) &&
    ['hostCollectors', 'collectors', 'hostAnalyzers', 'analyzers', 'redactors'].every((k) =>
      Array.isArray((spec as Record<string, unknown>)[k]),
    )
  );
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('collection cancelled');
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out;
}

function summaryText(name: string, startedAt: Date, summary: CollectorsSummary, totalMs: number): string {
  const lines = [
    `Support bundle: ${name}`,
    `Started: ${startedAt.toISOString()}`,
    `Collectors: ${summary.total} total, ${summary.failed} failed, ${summary.skipped} skipped`,
    '',
    'Collectors:',
  ];
  for (const r of summary.results) {
    const state = r.skipped ? `skipped (${r.skipped})` : r.error !== undefined ? `failed: ${r.error}` : 'ok';
    lines.push(`  ${r.type} "${r.name}": ${r.ms} ms, ${state}${r.truncated ? ', output truncated' : ''}`);
  }
  lines.push('', `Duration: ${totalMs} ms`, '');
  return lines.join('\n');
}
