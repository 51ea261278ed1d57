import { Command, InvalidArgumentError } from 'commander';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { collectToBundle, createReferenceResolver, type CollectEvent } from '@cronbundle/collect';
import { EXIT_SPEC_PROBLEM, loadSpecFile, reportSpecFileError, SpecFileError } from './spec-file';

export interface CollectOptions {
  spec: string;
  output?: string;
  redact: boolean;
  external?: boolean;
  maxBundleBytes?: number;
  collectorTimeout: number;
  httpAllow: string[];
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n))
      throw new InvalidArgumentError(`${name} must be a whole number >= 1`);
    return n;
  };
}

/** `support-bundle-2006-01-02T15_04_05` in local time, as troubleshoot's CLI names its archives. */
export function localBundleName(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `support-bundle-${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}T${p(at.getHours())}_${p(at.getMinutes())}_${p(at.getSeconds())}`;
}

/** One progress line per collector, as it finishes. */
export function progressLine(event: CollectEvent): string | undefined {
  if (event.type === 'log') {
    return event.entry.level === 'warn' || event.entry.level === 'error'
      ? `  ${event.entry.collector} "${event.entry.name}": ${event.entry.message}`
      : undefined;
  }
  if (event.type === 'collector:start') return undefined;
  const at = `[${event.index + 1}/${event.total}] ${event.collector} "${event.name}"`;
  if (event.type === 'collector:skipped') return `${at} skipped: ${event.reason}`;
  if (event.error !== undefined) return `${at} failed (${event.ms} ms): ${event.error}`;
  return event.truncated ? `${at} ok (${event.ms} ms), output truncated` : `${at} ok (${event.ms} ms)`;
}

export function collectCommand(version: string): Command {
  return new Command('collect')
    .description('collect a troubleshoot spec on this machine into a support bundle (.tar.gz); no Redis or api needed')
    .requiredOption('--spec <file>', 'troubleshoot spec (YAML documents or JSON)')
    .option('-o, --output <file>', 'archive to write (default ./support-bundle-<local time>.tar.gz)')
    .option('--no-redact', 'do not redact the bundle (redaction is not implemented yet: today a no-op)')
    .option('--external', "run troubleshoot's `support-bundle` from PATH instead of cronbundle's collectors")
    .option(
      '--max-bundle-bytes <n>',
      'stop collecting once the bundle holds this many bytes',
      positiveInt('--max-bundle-bytes'),
    )
    .option('--collector-timeout <seconds>', 'deadline of each collector', positiveInt('--collector-timeout'), 60)
    .option(
      '--http-allow <list>',
      'comma-separated CIDRs or hosts http collectors may reach although link-local (metadata endpoints)',
      (v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      [] as string[],
    )
    .action(async (opts: CollectOptions) => {
      const err = (line: string) => process.stderr.write(`${line}\n`);
      let spec;
      try {
        spec = await loadSpecFile(opts.spec);
      } catch (e) {
        if (!(e instanceof SpecFileError)) throw e;
        reportSpecFileError('collect', e, err);
        process.exitCode = EXIT_SPEC_PROBLEM;
        return;
      }
      const startedAt = new Date();
      const name = localBundleName(startedAt);
      const output = resolve(opts.output ?? `${name}.tar.gz`);
      const partial = `${output}.partial`;
      if (opts.redact) err('cronbundle collect: note: redaction is not implemented yet; the bundle is NOT redacted');
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => controller.abort(new Error(`interrupted by ${signal}`));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const result = await collectToBundle({
          spec,
          destination: createWriteStream(partial, { mode: 0o600 }),
          bundleName: name,
          now: () => startedAt,
          versionNumber: version,
          ...(opts.external ? { external: true } : {}),
          ...(opts.maxBundleBytes !== undefined ? { maxBundleBytes: opts.maxBundleBytes } : {}),
          collectorTimeoutMs: opts.collectorTimeout * 1000,
          // The operator runs their own spec on their own machine, as with troubleshoot's support-bundle.
          allowRun: true,
          allowedPaths: ['/'],
          httpAllow: opts.httpAllow,
          env: process.env,
          resolver: createReferenceResolver({ env: process.env, fileRoots: ['/'] }),
          signal: controller.signal,
          onProgress: (event) => {
            const line = progressLine(event);
            if (line) err(line);
          },
        });
        await rename(partial, output);
        const { bundle, collectors, limits } = result;
        if (limits?.exhausted)
          err(
            `cronbundle collect: bundle size limit of ${limits.maxBundleBytes} bytes reached; truncated: ${limits.truncatedCollectors.join(', ') || 'none'}; not run: ${limits.skippedCollectors.join(', ') || 'none'}`,
          );
        process.stdout.write(
          `${output}: ${bundle.files} files, ${bundle.sizeBytes} bytes; collectors: ${collectors.total} total, ${collectors.failed} failed, ${collectors.skipped} skipped\n`,
        );
      } catch (e) {
        await rm(partial, { force: true });
        const message = e instanceof Error ? e.message : String(e);
        err(`cronbundle collect: ${message}`);
        process.exitCode = controller.signal.aborted ? 130 : 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
