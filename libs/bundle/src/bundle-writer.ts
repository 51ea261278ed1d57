import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform, TransformCallback, Writable } from 'node:stream';
import { once } from 'node:events';
import { finished as streamFinished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { stringify as toYaml } from 'yaml';
import { BundleError, bundleFolderName, normalizeEntryPath } from './bundle-name';

export interface BundleWriterOptions {
  /** Where the .tar.gz bytes go: a file stream, an upload stream, anything writable. */
  destination: Writable;
  /** Top folder inside the archive; default `support-bundle-<now as 2006-01-02T15_04_05>`. */
  name?: string;
  /** Entry mtimes and the default name; default now. */
  now?: Date;
  /**
   * Budget of uncompressed entry bytes (version.yaml and analysis.json excluded); entries past it
   * are cut (streams) or refused (whole files). Default unlimited.
   */
  maxBytes?: number;
  /** `spec.versionNumber` in version.yaml: the producer's version. */
  versionNumber?: string;
  /** Directory for spooling streams of unknown size; default os.tmpdir(). */
  tmpDir?: string;
  gzipLevel?: number;
  /** End the destination on finalize (default true). */
  endDestination?: boolean;
}

export interface AddStreamOptions {
  /** Write no entry at all when the stream turns out empty (only for unknown sizes). */
  omitIfEmpty?: boolean;
}

export interface AddResult {
  path: string;
  /** Bytes stored in the archive for this entry. */
  bytes: number;
  /** False when the entry was refused (budget exhausted, or empty with omitIfEmpty). */
  written: boolean;
  /** True when the content was cut to fit the budget, or refused because of it. */
  truncated: boolean;
}

export interface BundleSummary {
  /** Top folder name inside the archive. */
  name: string;
  files: number;
  /** Size of the compressed archive. */
  sizeBytes: number;
  /** Sum of the entries' uncompressed sizes. */
  uncompressedBytes: number;
  /** sha256 (hex) of the compressed archive. */
  sha256: string;
  /** Entry paths cut or refused because of maxBytes, in order. */
  truncated: string[];
}

const VERSION_FILE = 'version.yaml';
const ANALYSIS_FILE = 'analysis.json';
const CHUNK = 64 * 1024;

/**
 * Streams a troubleshoot-layout support bundle straight into a gzip'd tar on `destination`.
 *
 * Entries are written one at a time (tar has no interleaving), so callers may add concurrently:
 * each add waits its turn. Known-size streams go straight through with backpressure; unknown
 * sizes are spooled to a temp file first (outside the turn, so a slow producer does not block
 * others) because a tar header needs the size up front. Memory stays at a few chunks whatever
 * the entry sizes.
 */
export class BundleWriter {
  readonly name: string;
  private readonly pack = tar.pack();
  private readonly gzip;
  private readonly hash = createHash('sha256');
  private readonly mtime: Date;
  private readonly maxBytes: number;
  private readonly tmpDir: string;
  private readonly paths = new Set<string>();
  private readonly truncatedPaths: string[] = [];
  private readonly destinationDone: Promise<void>;
  private turn: Promise<void> = Promise.resolve();
  private compressedBytes = 0;
  private entryBytes = 0;
  /** Bytes counted against maxBytes: everything but the bundle's own metadata files. */
  private budgetUsed = 0;
  private fileCount = 0;
  private failure: Error | undefined;
  private state: 'open' | 'finalizing' | 'closed' = 'open';
  private analysis: unknown = [];
  private spoolDir: Promise<string> | undefined;

  constructor(private readonly options: BundleWriterOptions) {
    this.mtime = options.now ?? new Date();
    this.name = options.name !== undefined ? normalizeEntryPath(options.name) : bundleFolderName(this.mtime);
    if (this.name.includes('/')) throw new BundleError(`bundle name must be a single folder name: ${this.name}`);
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.maxBytes >= 0)) throw new BundleError('maxBytes must be >= 0');
    this.tmpDir = options.tmpDir ?? tmpdir();
    this.gzip = createGzip({ level: options.gzipLevel ?? 6 });

    const counter = new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) => {
        this.compressedBytes += chunk.length;
        this.hash.update(chunk);
        cb(null, chunk);
      },
    });
    const destination = options.destination;
    this.destinationDone = new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        this.fail(error);
        reject(error);
      };
      this.pack.on('error', fail);
      this.gzip.on('error', fail);
      counter.on('error', fail);
      destination.on('error', fail);
      if (options.endDestination === false) counter.on('end', () => resolve());
      else destination.on('finish', () => resolve());
    });
    // Unhandled until finalize() awaits it; failures also surface through later adds.
    this.destinationDone.catch(() => undefined);
    this.pack.pipe(this.gzip);
    this.gzip.pipe(counter).pipe(destination, { end: options.endDestination !== false });

    // First entry, so even a cut-short archive has the file readers use to find the root.
    void this.putFile(
      VERSION_FILE,
      toYaml({
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'SupportBundle',
        spec: { versionNumber: options.versionNumber ?? 'unknown' },
      }),
      true,
    ).catch(() => undefined);
  }

  get files(): number {
    return this.fileCount;
  }

  get uncompressedBytes(): number {
    return this.entryBytes;
  }

  /** Bytes left in the budget (Infinity when unlimited). */
  get remainingBytes(): number {
    return Math.max(0, this.maxBytes - this.budgetUsed);
  }

  has(path: string): boolean {
    return this.paths.has(normalizeEntryPath(path));
  }

  /** The array written as analysis.json at finalize (default `[]`). */
  setAnalysis(results: unknown[]): void {
    this.analysis = results;
  }

  /** A whole file; refused (not cut: a cut JSON is useless) when it does not fit the budget. */
  addFile(path: string, content: Buffer | string): Promise<AddResult> {
    return this.putFile(path, content, false);
  }

  addJson(path: string, value: unknown): Promise<AddResult> {
    return this.addFile(path, JSON.stringify(value, null, 2));
  }

  /**
   * Stream `source` into the entry `path`. With `size` the bytes go straight through (a source that
   * ends early is zero-padded so the archive stays valid, and the call rejects); without it the
   * stream is spooled to a temp file first. Content past the budget is cut and recorded.
   */
  async addStream(path: string, source: Readable, size?: number, options: AddStreamOptions = {}): Promise<AddResult> {
    const entry = this.claim(path);
    if (size === undefined) return this.addSpooled(entry, source, options);
    if (!Number.isSafeInteger(size) || size < 0) {
      source.destroy();
      throw new BundleError(`invalid size ${size} for ${entry}`);
    }
    return this.exclusive(async () => {
      const allowed = Math.min(size, this.remainingBytes);
      if (allowed === 0 && size > 0) {
        source.destroy();
        return this.refuse(entry);
      }
      await this.writeStream(entry, source, allowed, size);
      const truncated = allowed < size;
      if (truncated) this.truncatedPaths.push(entry);
      return { path: entry, bytes: allowed, written: true, truncated };
    });
  }

  /** A relative symlink (troubleshoot links `<name>/<pod>/<container>.log` to the real log file). */
  async addSymlink(path: string, target: string): Promise<AddResult> {
    const entry = this.claim(path);
    if (target.startsWith('/')) throw new BundleError(`symlink target must be relative: ${target}`);
    normalizeEntryPath(posix.join(posix.dirname(entry), target));
    return this.exclusive(async () => {
      await this.putEntry({ name: `${this.name}/${entry}`, type: 'symlink', linkname: target, mtime: this.mtime });
      this.fileCount++;
      return { path: entry, bytes: 0, written: true, truncated: false };
    });
  }

  /** Write analysis.json, close the archive and wait until the destination has every byte. */
  async finalize(options: { analysis?: unknown[] } = {}): Promise<BundleSummary> {
    if (this.state !== 'open') throw new BundleError('bundle already finalized');
    if (options.analysis) this.analysis = options.analysis;
    if (!this.paths.has(ANALYSIS_FILE)) await this.putFile(ANALYSIS_FILE, JSON.stringify(this.analysis, null, 2), true);
    this.state = 'finalizing';
    await this.exclusive(async () => {
      this.pack.finalize();
    });
    await this.destinationDone;
    this.state = 'closed';
    await this.cleanupSpool();
    return {
      name: this.name,
      files: this.fileCount,
      sizeBytes: this.compressedBytes,
      uncompressedBytes: this.entryBytes,
      sha256: this.hash.digest('hex'),
      truncated: [...this.truncatedPaths],
    };
  }

  /** Stop writing: the destination is destroyed and the archive is incomplete. */
  async abort(reason: Error = new BundleError('bundle aborted')): Promise<void> {
    if (this.state === 'closed') return;
    this.fail(reason);
    this.state = 'closed';
    this.gzip.destroy(reason);
    this.options.destination.destroy(reason);
    await this.cleanupSpool();
  }

  private claim(path: string): string {
    const entry = normalizeEntryPath(path);
    if (this.failure) throw new BundleError(`bundle failed: ${this.failure.message}`);
    if (this.state !== 'open') throw new BundleError(`bundle is finalized; cannot add ${entry}`);
    if (this.paths.has(entry)) throw new BundleError(`duplicate bundle entry: ${entry}`);
    this.paths.add(entry);
    return entry;
  }

  private async putFile(path: string, content: Buffer | string, force: boolean): Promise<AddResult> {
    const entry = this.claim(path);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    return this.exclusive(async () => {
      if (!force && data.length > this.remainingBytes) return this.refuse(entry);
      await this.writeBuffer(entry, data);
      if (!force) this.budgetUsed += data.length;
      return { path: entry, bytes: data.length, written: true, truncated: false };
    });
  }

  private refuse(entry: string): AddResult {
    this.truncatedPaths.push(entry);
    this.paths.delete(entry);
    return { path: entry, bytes: 0, written: false, truncated: true };
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(() => {
      if (this.failure) throw new BundleError(`bundle failed: ${this.failure.message}`);
      return work();
    });
    this.turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.pack.destroy(error);
  }

  private putEntry(header: Parameters<tar.Pack['entry']>[0], body?: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) this.pack.entry(header, body, done);
      else this.pack.entry(header, done).end(undefined);
    });
  }

  private async writeBuffer(entry: string, data: Buffer): Promise<void> {
    await this.putEntry({ name: `${this.name}/${entry}`, size: data.length, mtime: this.mtime, mode: 0o644 }, data);
    this.entryBytes += data.length;
    this.fileCount++;
  }

  /**
   * Exactly `allowed` bytes go into the entry whatever the source does, because a size mismatch
   * corrupts the whole tar: extra bytes are dropped, a short or failed source is zero-padded.
   */
  private async writeStream(entry: string, source: Readable, allowed: number, declared: number): Promise<void> {
    let sink!: ReturnType<tar.Pack['entry']>;
    const finished = new Promise<void>((resolve, reject) => {
      const header = { name: `${this.name}/${entry}`, size: allowed, mtime: this.mtime, mode: 0o644 };
      sink = this.pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
    let written = 0;
    let sourceError: Error | undefined;
    const write = async (chunk: Buffer) => {
      if (!sink.write(chunk)) await once(sink, 'drain');
    };
    try {
      for await (const raw of source) {
        const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
        const take = Math.min(chunk.length, allowed - written);
        if (take > 0) await write(take === chunk.length ? chunk : chunk.subarray(0, take));
        written += take;
        if (written >= allowed) break; // for-await's break destroys the source: we stop reading it
      }
    } catch (err) {
      sourceError = err instanceof Error ? err : new Error(String(err));
    }
    const got = written;
    while (written < allowed) {
      const n = Math.min(CHUNK, allowed - written);
      await write(Buffer.alloc(n));
      written += n;
    }
    sink.end(undefined);
    await finished;
    this.entryBytes += allowed;
    this.budgetUsed += allowed;
    this.fileCount++;
    if (sourceError)
      throw new BundleError(`${entry}: source failed after ${got} bytes (zero-padded): ${sourceError.message}`);
    if (got < Math.min(allowed, declared))
      throw new BundleError(`${entry}: source ended after ${got} of ${declared} bytes (zero-padded)`);
  }

  private async addSpooled(entry: string, source: Readable, options: AddStreamOptions): Promise<AddResult> {
    // Spool at most one byte past the budget left now: enough to know it will be cut.
    const limit = this.remainingBytes;
    let file: string | undefined;
    try {
      file = join(await this.spoolDirectory(), randomUUID());
      const { size, over } = await spool(source, file, limit).catch((err: unknown) => {
        this.paths.delete(entry);
        throw err;
      });
      if (size === 0 && options.omitIfEmpty) {
        this.paths.delete(entry);
        return { path: entry, bytes: 0, written: false, truncated: false };
      }
      const spooled = file;
      return await this.exclusive(async () => {
        const allowed = Math.min(size, this.remainingBytes);
        if (allowed === 0 && (size > 0 || over)) return this.refuse(entry);
        await this.writeStream(entry, createReadStream(spooled, { highWaterMark: CHUNK }), allowed, allowed);
        const truncated = over || allowed < size;
        if (truncated) this.truncatedPaths.push(entry);
        return { path: entry, bytes: allowed, written: true, truncated };
      });
    } finally {
      if (file) await rm(file, { force: true });
    }
  }

  private spoolDirectory(): Promise<string> {
    this.spoolDir ??= mkdtemp(join(this.tmpDir, 'cronbundle-spool-'));
    return this.spoolDir;
  }

  private async cleanupSpool(): Promise<void> {
    if (!this.spoolDir) return;
    const dir = await this.spoolDir.catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** Copy `source` into `file`, keeping at most `limit` bytes; `over` tells whether more came. */
async function spool(source: Readable, file: string, limit: number): Promise<{ size: number; over: boolean }> {
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  let size = 0;
  let over = false;
  try {
    for await (const raw of source) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
      const take = Math.min(chunk.length, limit - size);
      if (take > 0 && !out.write(take === chunk.length ? chunk : chunk.subarray(0, take))) await once(out, 'drain');
      size += take;
      if (take < chunk.length) {
        over = true;
        break;
      }
    }
  } finally {
    out.end();
    await streamFinished(out).catch(() => undefined);
  }
  const onDisk = (await stat(file)).size;
  return { size: onDisk, over };
}
