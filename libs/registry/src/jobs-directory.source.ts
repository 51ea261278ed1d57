import { FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { JobDefinitionSpec, parseJobDefinition, ParseJobOptions, ValidationError } from '@cronbundle/core';
import type { SyncResult } from './job-registry';

/** One problem in one file: `file` is the name inside the directory, `document` is 1-based. */
export interface JobFileError {
  file: string;
  document?: number;
  path: string;
  message: string;
}

export interface DirectoryLoad {
  definitions: JobDefinitionSpec[];
  errors: JobFileError[];
  files: string[];
}

export interface DirectorySyncReport extends DirectoryLoad {
  sync: SyncResult;
}

export interface JobsDirectorySourceOptions extends ParseJobOptions {
  dir: string;
  /** Where the definitions go: JobRegistry in the apps. */
  sink: { syncFileJobs(defs: JobDefinitionSpec[]): Promise<SyncResult> };
  /** Full rescan period; fs.watch misses events on some filesystems (NFS, some container mounts). 0 = off. */
  rescanIntervalMs?: number;
  /** Watch with fs.watch (default true); the periodic rescan runs either way. */
  watch?: boolean;
  /** Quiet time after a change event before re-syncing, so an editor's burst of writes is one sync. */
  debounceMs?: number;
  onSync?: (report: DirectorySyncReport) => void;
  onError?: (err: unknown) => void;
}

const YAML_FILE = /^[^.].*\.ya?ml$/i;

/**
 * Job definitions from YAML files (JOBS_DIR): every *.yaml / *.yml of the directory (not its
 * subdirectories), each holding one or more documents, each a definition or a list of them.
 * A file with any error keeps the definitions it had at its last good read, so a typo never deletes
 * jobs; on a first read it contributes nothing. Errors are reported, other files go on.
 */
export class JobsDirectorySource {
  private readonly lastGood = new Map<string, JobDefinitionSpec[]>();
  private watcher?: FSWatcher;
  private interval?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private running?: Promise<DirectorySyncReport>;
  private again = false;
  private stopped = false;

  constructor(private readonly options: JobsDirectorySourceOptions) {}

  /** Read and validate every file; no side effects besides remembering good files. */
  async load(): Promise<DirectoryLoad> {
    const { dir } = this.options;
    const files = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && YAML_FILE.test(e.name))
      .map((e) => e.name)
      .sort();
    const errors: JobFileError[] = [];
    const definitions: JobDefinitionSpec[] = [];
    const owner = new Map<string, string>();
    for (const file of files) {
      const fileErrors: JobFileError[] = [];
      let defs: JobDefinitionSpec[] = [];
      try {
        defs = this.parseFile(file, await readFile(join(dir, file), 'utf8'), fileErrors);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while we listed
        fileErrors.push({ file, path: '', message: `cannot read: ${(err as Error).message}` });
      }
      if (fileErrors.length) {
        errors.push(...fileErrors);
        defs = this.lastGood.get(file) ?? [];
      } else {
        this.lastGood.set(file, defs);
      }
      for (const def of defs) {
        const first = owner.get(def.id);
        if (first !== undefined) {
          errors.push({ file, path: 'id', message: `job ${def.id} is already defined in ${first}; ignored here` });
          continue;
        }
        owner.set(def.id, file);
        definitions.push(def);
      }
    }
    for (const file of [...this.lastGood.keys()]) if (!files.includes(file)) this.lastGood.delete(file);
    return { definitions, errors, files };
  }

  /** Load and hand the result to the sink. Concurrent calls share one run (plus one follow-up). */
  async sync(): Promise<DirectorySyncReport> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        let report: DirectorySyncReport;
        do {
          this.again = false;
          const load = await this.load();
          report = { ...load, sync: await this.options.sink.syncFileJobs(load.definitions) };
          this.options.onSync?.(report);
        } while (this.again && !this.stopped);
        return report;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** First sync, then watch the directory and rescan periodically until stop(). */
  async start(): Promise<DirectorySyncReport> {
    this.stopped = false;
    const report = await this.sync();
    if (this.options.watch !== false) this.startWatching();
    const every = this.options.rescanIntervalMs ?? 30_000;
    if (every > 0) {
      this.interval = setInterval(() => this.runInBackground(), every);
      this.interval.unref();
    }
    return report;
  }

  private startWatching(): void {
    try {
      this.watcher = watch(this.options.dir, { persistent: false }, () => this.scheduleSync());
      this.watcher.on('error', (err) => this.options.onError?.(err));
    } catch (err) {
      this.options.onError?.(err); // no fs.watch here: the periodic rescan still works
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.interval);
    clearTimeout(this.debounce);
    await this.running?.catch(() => undefined);
  }

  private scheduleSync(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.runInBackground(), this.options.debounceMs ?? 100);
    this.debounce.unref();
  }

  private runInBackground(): void {
    if (this.stopped) return;
    this.sync().catch((err) => this.options.onError?.(err));
  }

  private parseFile(file: string, text: string, errors: JobFileError[]): JobDefinitionSpec[] {
    const defs: JobDefinitionSpec[] = [];
    const docs = parseAllDocuments(text, { prettyErrors: true });
    const list = Array.isArray(docs) ? docs : [docs];
    list.forEach((doc, i) => {
      const document = i + 1;
      if (doc.errors.length) {
        for (const e of doc.errors)
          errors.push({ file, document, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return; // empty document, e.g. a trailing ---
      const items = Array.isArray(value) ? value : [value];
      items.forEach((item, j) => {
        const prefix = Array.isArray(value) ? `[${j}]` : '';
        try {
          defs.push(parseJobDefinition(item, this.options));
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          for (const d of err.details) {
            const path = prefix && d.path ? `${prefix}.${d.path}` : prefix || d.path;
            errors.push({ file, document, path, message: d.message });
          }
        }
      });
    });
    return defs;
  }
}
