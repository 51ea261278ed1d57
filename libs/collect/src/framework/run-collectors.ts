import { forEachBounded } from '@cronbundle/core';
import { entryBody, entryType, type NormalizedSpec, type SpecEntry } from '../spec/spec-parser';
import { CappedCollectorOutput } from './collector-output';
import type { CollectorRegistry } from './collector-registry';
import type { BundleSink, CollectorLogEntry, CollectorScope, CollectPolicy, HostPaths } from './collector.types';
import { resolveReferences, scrubber, type ReferenceResolver } from './references';

export interface CollectorResult {
  type: string;
  scope: CollectorScope;
  /** The collector's title (collectorName or troubleshoot's default). */
  name: string;
  ms: number;
  error?: string;
  truncated?: boolean;
  /** Why it did not run: excluded by the spec, not implemented yet, the run was cancelled, or the bundle is full. */
  skipped?: 'excluded' | 'unsupported' | 'cancelled' | 'budget';
}

export interface CollectorsSummary {
  total: number;
  failed: number;
  skipped: number;
  results: CollectorResult[];
}

export type CollectEvent =
  | { type: 'collector:start'; collector: string; name: string; index: number; total: number }
  | {
      type: 'collector:end';
      collector: string;
      name: string;
      index: number;
      total: number;
      ms: number;
      error?: string;
      /** Its output hit the per-collector cap (or the bundle budget) and was cut. */
      truncated?: boolean;
    }
  | { type: 'collector:skipped'; collector: string; name: string; index: number; total: number; reason: string }
  | { type: 'log'; entry: CollectorLogEntry };

export interface RunCollectorsOptions {
  registry: CollectorRegistry;
  /** Collectors running at once (default 4). */
  concurrency?: number;
  /** Per-collector deadline (default 30 s). */
  timeoutMs?: number;
  /** Per-collector output cap (default 100 MiB). */
  maxCollectorBytes?: number;
  allowRun?: boolean;
  allowedPaths?: string[];
  httpAllow?: string[];
  resolver?: ReferenceResolver;
  env?: Record<string, string | undefined>;
  host?: Partial<HostPaths>;
  signal?: AbortSignal;
  /** Checked before each collector starts: true skips it (the bundle's size budget is spent). */
  budgetExhausted?: () => boolean;
  onProgress?: (event: CollectEvent) => void;
  now?: () => Date;
}

export const DEFAULT_HOST_PATHS: HostPaths = {
  proc: '/proc',
  sys: '/sys',
  etc: '/etc',
  run: '/run',
  modules: '/lib/modules',
};

interface Job {
  entry: SpecEntry;
  scope: CollectorScope;
}

/**
 * Run every collector of the spec into `sink`, host collectors first, each isolated: a failure,
 * a timeout or a throw becomes troubleshoot's `…/errors/<Title>-error.json` and the run goes on.
 */
export async function runCollectors(
  spec: NormalizedSpec,
  sink: BundleSink,
  options: RunCollectorsOptions,
): Promise<CollectorsSummary> {
  const jobs: Job[] = [
    ...spec.hostCollectors.map((entry) => ({ entry, scope: 'host' as const })),
    ...spec.collectors.map((entry) => ({ entry, scope: 'cluster' as const })),
  ];
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxOutputBytes = options.maxCollectorBytes ?? 100 * 1024 * 1024;
  const now = options.now ?? (() => new Date());
  const policy: CollectPolicy = {
    allowRun: options.allowRun ?? false,
    allowedPaths: options.allowedPaths ?? [],
    httpAllow: options.httpAllow ?? [],
    env: options.env ?? {},
    host: { ...DEFAULT_HOST_PATHS, ...options.host },
  };
  const emit = (event: CollectEvent) => {
    try {
      options.onProgress?.(event);
    } catch {
      // a broken progress listener must not break collection
    }
  };
  const results: CollectorResult[] = new Array(jobs.length);
  const errorPaths = new Set<string>();

  const writeError = async (scope: CollectorScope, title: string, message: string) => {
    const dir = scope === 'host' ? 'host-collectors/errors' : 'collector-errors';
    const safe = title.replace(/[/\\\0]/g, '_') || 'collector';
    let path = `${dir}/${safe}-error.json`;
    for (let n = 2; errorPaths.has(path); n++) path = `${dir}/${safe}-${n}-error.json`;
    errorPaths.add(path);
    try {
      await sink.addFile(
        path,
        JSON.stringify({ collector: title, error: message, timestamp: now().toISOString() }, null, 2),
      );
    } catch {
      // the bundle itself failed; finalize reports that
    }
  };

  const runOne = async (index: number): Promise<void> => {
    const { entry, scope } = jobs[index]!;
    const type = entryType(entry);
    const body = entryBody(entry);
    const collector = options.registry.get(scope, type);
    const title = (typeof body.collectorName === 'string' && body.collectorName) || collector?.defaultTitle || type;
    const base = { type, scope, name: title };
    const total = jobs.length;

    const skip = (reason: NonNullable<CollectorResult['skipped']>, detail: string) => {
      results[index] = { ...base, ms: 0, skipped: reason };
      emit({ type: 'collector:skipped', collector: type, name: title, index, total, reason: detail });
    };
    if (options.signal?.aborted) return skip('cancelled', 'run cancelled');
    if (body.exclude === true || body.exclude === 'true') return skip('excluded', 'excluded by the spec');
    if (!collector) return skip('unsupported', `${scope} collector "${type}" is not implemented by cronbundle yet`);
    if (options.budgetExhausted?.()) return skip('budget', 'bundle size limit reached');

    emit({ type: 'collector:start', collector: type, name: title, index, total });
    const started = performance.now();
    const controller = new AbortController();
    const onParentAbort = () => controller.abort(new Error('run cancelled'));
    options.signal?.addEventListener('abort', onParentAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const output = new CappedCollectorOutput(sink, maxOutputBytes, controller.signal);
    let scrub = (text: string) => text;
    let error: string | undefined;
    try {
      const resolved = await resolveReferences(body, options.resolver);
      scrub = scrubber(resolved.secrets);
      const aborted = new Promise<never>((_, reject) => {
        const fail = () =>
          reject(controller.signal.reason instanceof Error ? controller.signal.reason : new Error('aborted'));
        if (controller.signal.aborted) fail();
        else controller.signal.addEventListener('abort', fail, { once: true });
      });
      const work = collector.collect({
        type,
        scope,
        title,
        spec: resolved.value,
        rawSpec: body,
        signal: controller.signal,
        output,
        limits: { timeoutMs, maxOutputBytes },
        policy,
        scrub: (text) => scrub(text),
        log: (level, message) =>
          emit({ type: 'log', entry: { level, message: scrub(message), collector: type, name: title } }),
      });
      work.catch(() => undefined); // after a timeout nobody awaits it any more
      await Promise.race([work, aborted]);
    } catch (err) {
      error = scrub(err instanceof Error ? err.message : String(err));
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onParentAbort);
      output.close();
    }
    if (error !== undefined) await writeError(scope, title, error);
    const ms = Math.round(performance.now() - started);
    results[index] = {
      ...base,
      ms,
      ...(error !== undefined ? { error } : {}),
      ...(output.truncated ? { truncated: true } : {}),
    };
    emit({
      type: 'collector:end',
      collector: type,
      name: title,
      index,
      total,
      ms,
      ...(error !== undefined ? { error } : {}),
      ...(output.truncated ? { truncated: true } : {}),
    });
  };

  await forEachBounded(
    jobs.map((_, i) => i),
    concurrency,
    (i) => runOne(i),
  );
  return {
    total: results.length,
    failed: results.filter((r) => r.error !== undefined).length,
    skipped: results.filter((r) => r.skipped !== undefined).length,
    results,
  };
}
