import type { Writable } from 'node:stream';
import { BundleWriter, type BundleSummary } from '@cronbundle/bundle';
import { createDefaultRegistry } from './default-registry';
import type { CollectorRegistry } from './framework/collector-registry';
import type { BundleSink, HostPaths } from './framework/collector.types';
import type { ReferenceResolver } from './framework/references';
import { runCollectors, type CollectEvent, type CollectorsSummary } from './framework/run-collectors';
import { parseSpec, type NormalizedSpec, type SpecInput } from './spec/spec-parser';

export interface CollectToBundleOptions {
  /** A parsed spec, or anything parseSpec accepts (a SpecError is thrown before any byte is written). */
  spec: NormalizedSpec | SpecInput;
  destination: Writable;
  /** Top folder in the archive; default `support-bundle-<UTC time>`. */
  bundleName?: string;
  /** Uncompressed budget for the whole bundle. */
  maxBundleBytes?: number;
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

export interface CollectToBundleResult {
  bundle: BundleSummary;
  collectors: CollectorsSummary;
}

/** Collect everything the spec asks for into one streaming troubleshoot-layout tar.gz. */
export async function collectToBundle(options: CollectToBundleOptions): Promise<CollectToBundleResult> {
  const spec = isNormalized(options.spec) ? options.spec : parseSpec(options.spec).spec;
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const started = performance.now();
  const writer = new BundleWriter({
    destination: options.destination,
    ...(options.bundleName !== undefined ? { name: options.bundleName } : {}),
    now: startedAt,
    ...(options.maxBundleBytes !== undefined ? { maxBytes: options.maxBundleBytes } : {}),
    ...(options.versionNumber !== undefined ? { versionNumber: options.versionNumber } : {}),
    ...(options.tmpDir !== undefined ? { tmpDir: options.tmpDir } : {}),
  });
  try {
    const sink: BundleSink = options.wrapSink ? options.wrapSink(writer) : writer;
    const collectors = await runCollectors(spec, sink, {
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
          reason:
            r.skipped === 'excluded'
              ? 'excluded'
              : `${r.scope} collector type "${r.type}" is not implemented by cronbundle yet`,
          errors: [],
          timestamp: startedAt.toISOString(),
        })),
      );
    }
    const finishing = await options.beforeFinalize?.(collectors);
    throwIfAborted(options.signal);
    await writer.addFile(
      'execution-data/summary.txt',
      summaryText(writer.name, startedAt, collectors, Math.round(performance.now() - started)),
    );
    const bundle = await writer.finalize(finishing?.analysis ? { analysis: finishing.analysis } : {});
    return { bundle, collectors };
  } catch (err) {
    await writer.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
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
