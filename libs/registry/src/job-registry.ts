import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  applyJobPatch,
  ConflictError,
  JobDefinition,
  JobDefinitionSpec,
  JOB_ID_PATTERN,
  NotFoundError,
  parseJobDefinition,
  ParseJobOptions,
  PreconditionFailedError,
  ValidationError,
  ValidationIssue,
} from '@cronbundle/core';
import type { RedisKeys } from '@cronbundle/redis';
import { CREATE, DELETE, INDEX_DEPENDANTS, PRUNE_DEPENDANTS, runScript, SYNC, UPDATE } from './registry.scripts';

export type RegistryEventType = 'created' | 'updated' | 'deleted';

/** Published on `P:events` by every registry write; revisions increase by one per write. */
export interface RegistryEvent {
  type: RegistryEventType;
  id: string;
  version: number;
  revision: number;
}

export interface ListJobsQuery {
  /** `k=v` (or `k`: has the label); several are ANDed. */
  label?: string | string[];
  enabled?: boolean;
  /** Case-insensitive substring of id, name or description. */
  q?: string;
  /** 1..1000, default 50. */
  limit?: number;
  cursor?: string | null;
}

export interface JobPage {
  items: JobDefinition[];
  /** Opaque; null when there is nothing after this page. */
  nextCursor: string | null;
}

export interface SyncResult {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: number;
  /** File definitions not applied, e.g. the id belongs to a job created through the API. */
  conflicts: { id: string; reason: string }[];
}

export interface RegistrySubscription {
  close(): Promise<void>;
}

export interface JobRegistryOptions extends ParseJobOptions {
  /** Makes the dedicated connection `subscribe` needs (a subscribed connection can do nothing else). */
  createSubscriber?: () => Redis;
  /** Clock, for tests. */
  now?: () => Date;
}

const MAX_LIMIT = 1000;
const SCAN_BATCH = 200;
/** Ids examined per list call at most, so a filter matching nothing cannot make one call read everything. */
const SCAN_BUDGET = 5000;
/** Format version of the dependants index, stored in `P:jobs:dependants` once it is complete. */
const DEPENDANTS_INDEX_VERSION = '1';

export interface RebuildDependantsResult {
  /** Job records read (each added to the sets of its dependsOn). */
  indexed: number;
  /** Set members dropped because their job is gone or no longer depends on the set's job. */
  pruned: number;
}

/**
 * Job definitions in Redis (ARCHITECTURE.md §7): `P:job:<id>` JSON, `P:jobs` index (all scores 0,
 * so it is ordered by id and pages by ZRANGEBYLEX), `P:jobs:rev` revision, `P:events` channel,
 * `P:job:<id>:dependants` (set of the jobs whose dependsOn contains <id>, kept by the same scripts
 * that write the records; `P:jobs:dependants` marks it complete, see rebuildDependantsIndex).
 */
export class JobRegistry {
  private readonly now: () => Date;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: JobRegistryOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Validate and store a new API-managed job. ValidationError, or ConflictError if the id exists. */
  async create(input: unknown): Promise<JobDefinition> {
    const spec = parseJobDefinition(input, this.options);
    const at = this.now().toISOString();
    const record: JobDefinition = { ...spec, source: 'api', version: 1, createdAt: at, updatedAt: at };
    const [status] = await runScript(
      this.redis,
      CREATE,
      [
        this.keys.job(spec.id),
        this.keys.jobs,
        this.keys.jobsRevision,
        this.keys.jobsFromFiles,
        this.keys.jobDependantsIndexed,
      ],
      [this.keys.events, spec.id, JSON.stringify(record), 'api', '', this.keys.jobPrefix, DEPENDANTS_INDEX_VERSION],
    );
    if (status === 'exists') throw new ConflictError(`job ${spec.id} already exists`, 'exists');
    return record;
  }

  /**
   * Create many API-managed jobs in one pipeline (bulk import). Each is validated first (a bad one
   * fails the whole call before anything is written); each create is still its own atomic script.
   */
  async createMany(inputs: unknown[]): Promise<{ created: JobDefinition[]; conflicts: string[] }> {
    const issues: ValidationIssue[] = [];
    const specs: JobDefinitionSpec[] = [];
    inputs.forEach((input, i) => {
      try {
        specs.push(parseJobDefinition(input, this.options));
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        issues.push(...err.details.map((d) => ({ path: d.path ? `[${i}].${d.path}` : `[${i}]`, message: d.message })));
      }
    });
    if (issues.length) throw new ValidationError(issues);
    const at = this.now().toISOString();
    const records = specs.map((spec): JobDefinition => ({
      ...spec,
      source: 'api',
      version: 1,
      createdAt: at,
      updatedAt: at,
    }));
    const sha = (await this.redis.script('LOAD', CREATE)) as string;
    const pipeline = this.redis.pipeline();
    for (const r of records) {
      pipeline.evalsha(
        sha,
        5,
        this.keys.job(r.id),
        this.keys.jobs,
        this.keys.jobsRevision,
        this.keys.jobsFromFiles,
        this.keys.jobDependantsIndexed,
        this.keys.events,
        r.id,
        JSON.stringify(r),
        'api',
        '',
        this.keys.jobPrefix,
        DEPENDANTS_INDEX_VERSION,
      );
    }
    const replies = (await pipeline.exec()) ?? [];
    const created: JobDefinition[] = [];
    const conflicts: string[] = [];
    replies.forEach(([err, reply], i) => {
      if (err) throw err;
      if ((reply as unknown[])[0] === 'ok') created.push(records[i]);
      else conflicts.push(records[i].id);
    });
    return { created, conflicts };
  }

  async get(id: string): Promise<JobDefinition> {
    const job = await this.find(id);
    if (!job) throw new NotFoundError('job', id);
    return job;
  }

  /** Like get, but undefined when absent. */
  async find(id: string): Promise<JobDefinition | undefined> {
    // An id outside the pattern cannot exist, and must not reach a key name (`x:execs` is another key).
    if (!JOB_ID_PATTERN.test(id)) return undefined;
    const json = await this.redis.get(this.keys.job(id));
    return json === null ? undefined : (JSON.parse(json) as JobDefinition);
  }

  /**
   * A page of jobs in id order. The cursor is the last id examined, so paging is stable under
   * concurrent writes: no duplicates, and every job that exists throughout is returned once.
   */
  async list(query: ListJobsQuery = {}): Promise<JobPage> {
    const limit = query.limit ?? 50;
    const issues: ValidationIssue[] = [];
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      issues.push({ path: 'limit', message: `must be 1..${MAX_LIMIT}` });
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    if (query.cursor && after === undefined)
      issues.push({ path: 'cursor', message: 'is not a cursor this server issued' });
    const labels = parseLabelFilters(query.label, issues);
    if (issues.length) throw new ValidationError(issues);
    const q = query.q?.trim().toLowerCase() || undefined;
    const matches = (job: JobDefinition) =>
      (query.enabled === undefined || job.enabled === query.enabled) &&
      labels.every(([k, v]) => (v === undefined ? k in job.labels : job.labels[k] === v)) &&
      (q === undefined || [job.id, job.name, job.description].some((s) => s.toLowerCase().includes(q)));

    const items: JobDefinition[] = [];
    let last = after;
    let scanned = 0;
    for (;;) {
      const ids = await this.redis.zrangebylex(
        this.keys.jobs,
        last === undefined ? '-' : `(${last}`,
        '+',
        'LIMIT',
        0,
        Math.min(SCAN_BATCH, Math.max(limit, 50)),
      );
      if (ids.length === 0) return { items, nextCursor: null };
      const values = await this.redis.mget(...ids.map((id) => this.keys.job(id)));
      for (let i = 0; i < ids.length; i++) {
        last = ids[i];
        scanned++;
        const json = values[i];
        if (json === null) continue; // deleted between the two reads
        const job = JSON.parse(json) as JobDefinition;
        if (matches(job)) items.push(job);
        if (items.length === limit)
          return { items, nextCursor: (await this.hasAfter(last)) ? encodeCursor(last) : null };
      }
      if (scanned >= SCAN_BUDGET) return { items, nextCursor: encodeCursor(last!) };
    }
  }

  /**
   * Apply a JSON merge patch. `expectedVersion` (If-Match) makes it a compare-and-set: a stale version
   * is PreconditionFailedError. File-managed jobs are refused (ConflictError).
   */
  async update(id: string, patch: unknown, options: { expectedVersion?: number } = {}): Promise<JobDefinition> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(id);
      if (current.source === 'file') throw fileManaged(id);
      const expected = options.expectedVersion ?? current.version;
      if (expected !== current.version) throw stale(id, expected, current.version);
      const next = this.nextRecord(current, applyJobPatch(stripSystem(current), patch, this.options));
      const status = await this.compareAndSet(id, expected, next, 'api');
      if (status === 'ok') return next;
      // Without If-Match the caller asked for last-writer-wins: re-read and re-apply.
      if (!(status instanceof PreconditionFailedError) || options.expectedVersion !== undefined || attempt >= 10)
        throw status;
    }
  }

  /** Enable or disable; allowed for file-managed jobs too (an operator switch, not an edit). */
  async setEnabled(id: string, enabled: boolean): Promise<JobDefinition> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(id);
      if (current.enabled === enabled) return current;
      const next = this.nextRecord(current, { ...stripSystem(current), enabled });
      const status = await this.compareAndSet(id, current.version, next, 'any');
      if (status === 'ok') return next;
      if (!(status instanceof PreconditionFailedError) || attempt >= 10) throw status;
    }
  }

  /** Delete an API-managed job; `expectedVersion` optional. NotFoundError, ConflictError for file jobs. */
  async delete(id: string, options: { expectedVersion?: number } = {}): Promise<void> {
    if (!JOB_ID_PATTERN.test(id)) throw new NotFoundError('job', id);
    const [status, version] = await runScript(
      this.redis,
      DELETE,
      [this.keys.job(id), this.keys.jobs, this.keys.jobsRevision, this.keys.jobsFromFiles],
      [this.keys.events, id, 'api', options.expectedVersion ?? '', this.keys.jobPrefix],
    );
    if (status === 'notfound') throw new NotFoundError('job', id);
    if (status === 'file') throw fileManaged(id);
    if (status === 'stale') throw stale(id, options.expectedVersion!, Number(version));
  }

  /**
   * Make the file-managed jobs exactly `defs` (already validated): create the new, update those whose
   * file content changed, delete those no longer in any file. A job whose file did not change keeps
   * its state, including an operator's enable/disable. An id owned by an API job is a conflict, not
   * an overwrite. All-or-nothing; retried if an API write races it.
   */
  async syncFileJobs(defs: JobDefinitionSpec[]): Promise<SyncResult> {
    for (let attempt = 0; ; attempt++) {
      const result: SyncResult = { created: [], updated: [], deleted: [], unchanged: 0, conflicts: [] };
      const wanted = new Map<string, JobDefinitionSpec>();
      for (const def of defs) {
        if (wanted.has(def.id))
          result.conflicts.push({ id: def.id, reason: 'defined more than once; the last definition wins' });
        wanted.set(def.id, def);
      }
      const fileHashes = await this.redis.hgetall(this.keys.jobsFromFiles);
      const ids = [...new Set([...wanted.keys(), ...Object.keys(fileHashes)])];
      const records = new Map<string, JobDefinition>();
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        const values = await this.redis.mget(...chunk.map((id) => this.keys.job(id)));
        values.forEach((v, j) => v !== null && records.set(chunk[j], JSON.parse(v) as JobDefinition));
      }
      const at = this.now().toISOString();
      const keys: string[] = [];
      const args: (string | number)[] = [];
      const op = (kind: 'c' | 'u' | 'd' | 'h', id: string, expected: number, json: string, hash: string) => {
        keys.push(this.keys.job(id));
        args.push(kind, id, expected, json, hash);
      };
      for (const [id, def] of wanted) {
        const hash = contentHash(def);
        const rec = records.get(id);
        if (!rec) {
          op('c', id, 0, JSON.stringify({ ...def, source: 'file', version: 1, createdAt: at, updatedAt: at }), hash);
          result.created.push(id);
        } else if (rec.source !== 'file') {
          result.conflicts.push({ id, reason: 'a job with this id was created through the API' });
          if (fileHashes[id] !== undefined) op('h', id, 0, '', '');
        } else if (fileHashes[id] === hash) {
          result.unchanged++;
        } else {
          op('u', id, rec.version, JSON.stringify(this.nextRecord(rec, def, at)), hash);
          result.updated.push(id);
        }
      }
      for (const id of Object.keys(fileHashes)) {
        if (wanted.has(id)) continue;
        const rec = records.get(id);
        if (rec?.source === 'file') {
          op('d', id, rec.version, '', '');
          result.deleted.push(id);
        } else {
          op('h', id, 0, '', '');
        }
      }
      if (keys.length === 0) return result;
      const [status] = await runScript(
        this.redis,
        SYNC,
        [this.keys.jobs, this.keys.jobsRevision, this.keys.jobsFromFiles, this.keys.jobDependantsIndexed, ...keys],
        [this.keys.events, this.keys.jobPrefix, DEPENDANTS_INDEX_VERSION, ...args],
      );
      if (status === 'ok') return result;
      if (attempt >= 10)
        throw new ConflictError('job files could not be synced: the registry kept changing underneath', 'busy');
    }
  }

  /** Definitions by id in one MGET, undefined where absent (same order as `ids`). */
  async findMany(ids: string[]): Promise<(JobDefinition | undefined)[]> {
    const valid = ids.filter((id) => JOB_ID_PATTERN.test(id));
    if (valid.length === 0) return ids.map(() => undefined);
    const values = await this.redis.mget(...valid.map((id) => this.keys.job(id)));
    const byId = new Map(valid.map((id, i) => [id, values[i]]));
    return ids.map((id) => {
      const json = byId.get(id);
      return json == null ? undefined : (JSON.parse(json) as JobDefinition);
    });
  }

  /**
   * Ids of the jobs whose dependsOn contains `id` (one SMEMBERS of `P:job:<id>:dependants`),
   * sorted. Complete only once `dependantsIndexReady()`; the records are the truth, so a caller
   * acting on them re-reads the definitions (findMany).
   */
  async dependantsOf(id: string): Promise<string[]> {
    if (!JOB_ID_PATTERN.test(id)) return [];
    return (await this.redis.smembers(this.keys.jobDependants(id))).sort();
  }

  /** Whether the dependants index has been built from every record (rebuildDependantsIndex ran). */
  async dependantsIndexReady(): Promise<boolean> {
    return (await this.redis.get(this.keys.jobDependantsIndexed)) === DEPENDANTS_INDEX_VERSION;
  }

  /**
   * Build the dependants index from the records: add every job to the sets of its dependsOn, then
   * drop set members that no longer hold, then mark the index complete. For data written before the
   * index existed (or by a writer older than it). Safe while the registry is written, and to run
   * twice at once: every step is one script that reads the record it indexes. Writes only add and
   * remove entries that are true or false at that moment, so readers never see a correct entry
   * vanish. The first job created in an empty registry marks the index complete; otherwise
   * `P:jobs:dependants` unset (or `DEL`eted by an operator) makes the scheduler leader run this on
   * its next election.
   */
  async rebuildDependantsIndex(): Promise<RebuildDependantsResult> {
    let indexed = 0;
    let pruned = 0;
    for (let after = '-'; ;) {
      const ids = await this.redis.zrangebylex(this.keys.jobs, after, '+', 'LIMIT', 0, 500);
      if (ids.length === 0) break;
      await runScript(this.redis, INDEX_DEPENDANTS, [this.keys.jobs], [this.keys.jobPrefix, ...ids]);
      indexed += ids.length;
      after = `(${ids[ids.length - 1]}`;
    }
    const match = `${globEscape(this.keys.jobPrefix)}*:dependants`;
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      for (const key of found) {
        const dep = key.slice(this.keys.jobPrefix.length, -':dependants'.length);
        if (!JOB_ID_PATTERN.test(dep)) continue;
        const [, removed] = await runScript(this.redis, PRUNE_DEPENDANTS, [key], [this.keys.jobPrefix, dep]);
        pruned += Number(removed);
      }
    } while (cursor !== '0');
    await this.redis.set(this.keys.jobDependantsIndexed, DEPENDANTS_INDEX_VERSION);
    return { indexed, pruned };
  }

  /** The registry revision: the number of writes ever made (0 when empty). */
  async revision(): Promise<number> {
    return Number((await this.redis.get(this.keys.jobsRevision)) ?? 0);
  }

  /**
   * Receive change events on a dedicated connection. Pub/sub is at-most-once: compare each event's
   * revision with the last one seen (a gap, or `onResubscribed` after a reconnect, means resync by
   * listing; `revision()` tells where the registry is).
   */
  async subscribe(
    onEvent: (event: RegistryEvent) => void,
    options: { onResubscribed?: () => void } = {},
  ): Promise<RegistrySubscription> {
    if (!this.options.createSubscriber) throw new Error('JobRegistry.subscribe needs options.createSubscriber');
    const sub = this.options.createSubscriber();
    const channel = this.keys.events;
    sub.on('message', (ch: string, message: string) => {
      if (ch !== channel) return;
      try {
        onEvent(JSON.parse(message) as RegistryEvent);
      } catch {
        // A malformed message is not ours to crash on; the revision gap will show it was missed.
      }
    });
    await sub.subscribe(channel);
    // ioredis re-subscribes by itself after a reconnect; events published meanwhile are lost.
    sub.on('ready', () => options.onResubscribed?.());
    return {
      close: async () => {
        sub.removeAllListeners('message');
        await sub.quit().catch(() => sub.disconnect());
      },
    };
  }

  private nextRecord(current: JobDefinition, spec: JobDefinitionSpec, at = this.now().toISOString()): JobDefinition {
    const next: JobDefinition = {
      ...spec,
      source: current.source,
      version: current.version + 1,
      createdAt: current.createdAt,
      updatedAt: at,
    };
    if (current.nextRunAt !== undefined) next.nextRunAt = current.nextRunAt;
    if (current.lastExecution !== undefined) next.lastExecution = current.lastExecution;
    return next;
  }

  /** 'ok', or the error to throw. */
  private async compareAndSet(
    id: string,
    expected: number,
    next: JobDefinition,
    mode: 'api' | 'any',
  ): Promise<'ok' | Error> {
    const [status, version] = await runScript(
      this.redis,
      UPDATE,
      [this.keys.job(id), this.keys.jobsRevision],
      [this.keys.events, id, expected, JSON.stringify(next), mode, this.keys.jobPrefix],
    );
    if (status === 'ok') return 'ok';
    if (status === 'notfound') return new NotFoundError('job', id);
    if (status === 'file') return fileManaged(id);
    return stale(id, expected, Number(version));
  }

  private async hasAfter(id: string): Promise<boolean> {
    return (await this.redis.zlexcount(this.keys.jobs, `(${id}`, '+')) > 0;
  }
}

function stripSystem(job: JobDefinition): JobDefinitionSpec {
  // Destructured only to drop the system fields.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { source, version, createdAt, updatedAt, nextRunAt, lastExecution, ...spec } = job;
  return spec;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

function contentHash(def: JobDefinitionSpec): string {
  return createHash('sha256').update(JSON.stringify(def)).digest('hex').slice(0, 32);
}

function fileManaged(id: string): ConflictError {
  return new ConflictError(`job ${id} is managed by a file in JOBS_DIR; edit the file instead`, 'file-managed');
}

function stale(id: string, expected: number, actual: number): PreconditionFailedError {
  return new PreconditionFailedError(`job ${id} is at version ${actual}, not ${expected}`, expected, actual);
}

function encodeCursor(id: string): string {
  return Buffer.from(`j1:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string | undefined {
  const raw = Buffer.from(cursor, 'base64url').toString();
  return raw.startsWith('j1:') && raw.length > 3 ? raw.slice(3) : undefined;
}

function parseLabelFilters(
  label: string | string[] | undefined,
  issues: ValidationIssue[],
): [string, string | undefined][] {
  const filters = label === undefined ? [] : Array.isArray(label) ? label : [label];
  return filters.map((f) => {
    const eq = f.indexOf('=');
    const k = eq < 0 ? f : f.slice(0, eq);
    if (!k) issues.push({ path: 'label', message: 'must be k=v or k' });
    return [k, eq < 0 ? undefined : f.slice(eq + 1)];
  });
}
