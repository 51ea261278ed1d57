import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { access, chmod, constants, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { stringify } from 'yaml';
import type { BundleSink } from '../framework/collector.types';
import { resolveReferences, type ReferenceResolver } from '../framework/references';
import type { NormalizedSpec } from '../spec/spec-parser';

export const SUPPORT_BUNDLE_BINARY = 'support-bundle';

export const SUPPORT_BUNDLE_INSTALL_HELP =
  "install troubleshoot's CLI: `kubectl krew install support-bundle`, or download " +
  'support-bundle_<os>_<arch>.tar.gz from https://github.com/replicatedhq/troubleshoot/releases and put `support-bundle` on PATH';

/** External mode was asked for but troubleshoot's `support-bundle` cannot be run. */
export class SupportBundleNotInstalledError extends Error {
  override readonly name = 'SupportBundleNotInstalledError';
  constructor(binary: string) {
    super(
      `external mode needs troubleshoot's \`${binary}\` binary, which is not on PATH (or not executable): ${SUPPORT_BUNDLE_INSTALL_HELP}`,
    );
  }
}

/** The executable `binary` resolves to on `pathEnv`, or undefined. */
export async function findExecutable(binary: string, pathEnv: string | undefined): Promise<string | undefined> {
  const candidates = isAbsolute(binary)
    ? [binary]
    : (pathEnv ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface RunSupportBundleOptions {
  spec: NormalizedSpec;
  /** The binary's path, from findExecutable. */
  executable: string;
  /** Environment of the child (PATH, KUBECONFIG, …). */
  env: Record<string, string | undefined>;
  resolver?: ReferenceResolver;
  tmpDir?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The child's output lines, for progress and logs. */
  onLine?: (line: string) => void;
}

export interface SupportBundleRun {
  /** The archive support-bundle wrote; remove `dir` when done with it. */
  archive: string;
  dir: string;
}

/**
 * Run `support-bundle <spec> --interactive=false --output <file>` on the spec (references resolved
 * into a private temp file that is removed afterwards) and return the archive it wrote.
 */
export async function runSupportBundle(options: RunSupportBundleOptions): Promise<SupportBundleRun> {
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'cronbundle-external-'));
  await chmod(dir, 0o700);
  try {
    const resolved = await resolveReferences(
      {
        hostCollectors: options.spec.hostCollectors,
        collectors: options.spec.collectors,
        hostAnalyzers: options.spec.hostAnalyzers,
        analyzers: options.spec.analyzers,
        redactors: options.spec.redactors,
      },
      options.resolver,
    );
    const specFile = join(dir, 'spec.yaml');
    const document = {
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      metadata: { name: 'cronbundle' },
      spec: Object.fromEntries(Object.entries(resolved.value).filter(([, list]) => list.length > 0)),
    };
    await writeFile(specFile, stringify(document), { mode: 0o600 });
    const archive = join(dir, 'support-bundle.tar.gz');
    const scrub = (line: string) =>
      [...resolved.secrets.entries()].reduce((text, [secret, ref]) => text.split(secret).join(ref), line);
    await runChild(options, [specFile, '--interactive=false', '--output', archive], (line) =>
      options.onLine?.(scrub(line)),
    );
    await rm(specFile, { force: true });
    const info = await stat(archive).catch(() => undefined);
    if (!info?.isFile()) throw new Error(`${SUPPORT_BUNDLE_BINARY} exited 0 but wrote no archive at ${archive}`);
    return { archive, dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function runChild(options: RunSupportBundleOptions, args: string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(
      Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const child = spawn(options.executable, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const lines = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 5) tail.shift();
        onLine(line);
      }
    };
    child.stdout.on('data', lines);
    child.stderr.on('data', lines);
    let stopped: string | undefined;
    const stop = (why: string) => {
      stopped ??= why;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    };
    const timer = setTimeout(() => stop(`timed out after ${options.timeoutMs} ms`), options.timeoutMs);
    const onAbort = () => stop('run cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`cannot start ${options.executable}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (stopped) return reject(new Error(`${SUPPORT_BUNDLE_BINARY} stopped: ${stopped}`));
      if (code === 0) return resolve();
      const last = tail.length ? `: ${tail.join(' | ')}` : '';
      reject(new Error(`${SUPPORT_BUNDLE_BINARY} exited with ${code ?? signal}${last}`));
    });
  });
}

export interface ImportResult {
  files: number;
  /** Entries not copied (links, unsafe paths), with why. */
  skipped: { path: string; reason: string }[];
}

/**
 * Stream a troubleshoot archive's files into the bundle, dropping its top folder and its
 * version.yaml (the bundle writes its own). One entry at a time, so memory stays flat.
 */
export async function importSupportBundle(archive: string, sink: BundleSink): Promise<ImportResult> {
  const extract = tar.extract();
  const gunzip = createGunzip();
  const source = createReadStream(archive);
  source.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', (err) => extract.destroy(err));
  source.pipe(gunzip).pipe(extract as unknown as NodeJS.WritableStream);
  const result: ImportResult = { files: 0, skipped: [] };
  for await (const entry of extract) {
    const name = entry.header.name.replace(/^\.\//, '');
    const slash = name.indexOf('/');
    const path = slash >= 0 ? name.slice(slash + 1) : name;
    // One iterator for the entry: whatever the sink reads (or cuts, or refuses), the rest is read
    // here, because the archive cannot move on to the next entry before this one is consumed.
    const it = entry[Symbol.asyncIterator]();
    const drain = async () => {
      for (;;) if ((await it.next()).done) return;
    };
    async function* content(): AsyncGenerator<Buffer> {
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        yield next.value as Buffer;
      }
    }
    if (entry.header.type === 'directory' || path === '') {
      await drain();
      continue;
    }
    if (entry.header.type !== 'file') {
      result.skipped.push({ path, reason: `${entry.header.type} entries are not copied` });
      await drain();
      continue;
    }
    if (path === 'version.yaml') {
      await drain();
      continue;
    }
    try {
      const added = await sink.addStream(path, Readable.from(content()), entry.header.size ?? 0);
      await drain();
      if (added.written) result.files++;
    } catch (err) {
      result.skipped.push({ path, reason: err instanceof Error ? err.message : String(err) });
      await drain().catch(() => undefined);
    }
  }
  return result;
}
