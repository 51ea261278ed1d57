import type { Redis } from 'ioredis';
import {
  EXECUTION_STATUSES,
  STAGE_NAMES,
  type ExecutionError,
  type ExecutionLogEntry,
  type ExecutionRecord,
  type ExecutionStatus,
  type LogLevel,
  type StageName,
  type Trigger,
  ValidationError,
} from '@cronbundle/core';
import { runScript, type RedisKeys } from '@cronbundle/redis';
import { EXECUTION_ID_PATTERN, newExecutionId } from './execution-id';
import {
  APPEND_LUA,
  CANCEL_LUA,
  CREATE_LUA,
  FINISH_LUA,
  JITTER_LUA,
  LOG_LUA,
  PRUNE_LUA,
  REUPLOAD_REQUEST_LUA,
  REUPLOAD_RESULT_LUA,
  START_LUA,
  UPDATE_LUA,
} from './execution-store.scripts';

/** How one attempt of a run went; attempts are listed on the record so retries and redeliveries show. */
export interface ExecutionAttempt {
  attempt: number;
  workerId: string;
  startedAt: string;
  finishedAt?: string;
  status: 'running' | 'succeeded' | 'failed' | 'interrupted' | 'cancelled' | 'timed_out' | 'skipped';
  error?: string;
}

/**
 * The last re-upload of a finished execution's bundle (`POST /executions/:id/reupload`): from where
 * it was read, and, once done, where it went (also the record's `upload` then) or why it failed.
 */
export interface ExecutionReupload {
  status: 'queued' | 'succeeded' | 'failed';
  requestedAt: string;
  requestedBy: string;
  /** The bundle's URL when the re-upload was asked for. */
  from: string;
  url?: string;
  ms?: number;
  finishedAt?: string;
  error?: string;
}

/** An execution as stored: the §3 record plus its attempts and, while running, a pending cancel. */
export type Execution = ExecutionRecord & {
  attempts: ExecutionAttempt[];
  /** The latest re-upload request and its outcome. */
  reupload?: ExecutionReupload;
  /** Scheduled runs of a job with `schedule.jitterSeconds`: the delay (ms) added to the slot. */
  jitterMs?: number;
  /** Set when a cancel was requested while it ran, with why. */
  cancelRequestedAt?: string | null;
  cancelReason?: string | null;
};

export interface ExecutionStoreOptions {
  /** Log entries kept per execution (newest win). Default 500. */
  maxLogEntries?: number;
  now?: () => Date;
}

export interface Retention {
  executions: number;
  days: number;
}

export type StartResult =
  | {
      kind: 'started';
      attempt: number;
      redelivered: boolean;
      /** Read in the same step as the start, so the caller needs no second read of the record. */
      cancelRequestedAt?: string;
      cancelReason?: string;
      jitterMs?: number;
    }
  | { kind: 'terminal'; status: ExecutionStatus }
  | { kind: 'missing' };

/** Result details a run adds to its record; JSON-valued, written in one atomic step. */
export type ExecutionDetails = Partial<
  Pick<ExecutionRecord, 'collectors' | 'analysis' | 'bundle' | 'changes' | 'upload'>
>;

/**
 * What a running attempt held back in memory to write in one step (`append`, or with its
 * `finish`/`requeue`): log entries in order, and stage timings (ms).
 */
export interface AttemptWrites {
  logs?: ExecutionLogEntry[];
  stages?: Partial<Record<StageName, number>>;
}

/** A write by an attempt that is no longer the current one (another worker took the run over). */
export class StaleAttemptError extends Error {
  constructor(
    readonly executionId: string,
    readonly attempt: number,
  ) {
    super(`execution ${executionId}: attempt ${attempt} is no longer current; write refused`);
    this.name = 'StaleAttemptError';
  }
}

const JSON_FIELDS = ['collectors', 'analysis', 'bundle', 'changes', 'upload'] as const;
const MAX_PAGE = 200;

/**
 * Execution records (ARCHITECTURE.md §3) in Redis: `P:exec:<id>` hash, `P:exec:<id>:logs` capped
 * list, `P:job:<id>:execs` history (score = slot or creation time), `P:job:<id>:slots` slot index.
 * Every transition is one Lua script. The state machine: queued → running → succeeded | failed |
 * cancelled | timed_out | skipped, running → queued for a retry or a hand-back; queued →
 * skipped | cancelled | missed. Writes of an attempt other than the current one are refused.
 */
export class ExecutionStore {
  private readonly maxLogEntries: number;
  private readonly now: () => Date;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    options: ExecutionStoreOptions = {},
  ) {
    this.maxLogEntries = options.maxLogEntries ?? 500;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The one record of a scheduled slot, created atomically if absent. Returns the existing record
   * when the slot already has one, whatever its status.
   */
  async ensureSlot(input: {
    jobId: string;
    scheduledFor: number;
    trigger: 'schedule' | 'catchup';
    status?: 'queued' | 'missed' | 'skipped';
    reason?: string;
  }): Promise<{ record: Execution; created: boolean }> {
    const id = newExecutionId(this.now().getTime());
    const slot = String(Math.floor(input.scheduledFor));
    const [created, existingId, flat] = await this.script<[number, string, string[]]>(
      CREATE_LUA,
      [this.keys.exec(id), this.keys.jobExecs(input.jobId), this.keys.jobSlots(input.jobId)],
      [id, input.scheduledFor, slot, this.keys.execPrefix, ...this.initialFields(id, input, slot)],
    );
    const hash = pairsToHash(flat);
    if (!hash.id) throw new Error(`execution ${existingId} of slot ${slot} of job ${input.jobId} is missing`);
    return { record: parseRecord(hash), created: created === 1 };
  }

  /** Manual / dependency runs: a new record with a fresh ULID. */
  async create(input: {
    jobId: string;
    trigger: Trigger;
    scheduledFor: number;
    status?: ExecutionStatus;
    reason?: string;
  }): Promise<Execution> {
    const id = newExecutionId(this.now().getTime());
    const [, , flat] = await this.script<[number, string, string[]]>(
      CREATE_LUA,
      [this.keys.exec(id), this.keys.jobExecs(input.jobId), this.keys.jobSlots(input.jobId)],
      [id, input.scheduledFor, '', this.keys.execPrefix, ...this.initialFields(id, input, '')],
    );
    return parseRecord(pairsToHash(flat));
  }

  async get(id: string, options: { logs?: boolean } = {}): Promise<Execution | null> {
    if (!EXECUTION_ID_PATTERN.test(id)) return null;
    const hash = await this.redis.hgetall(this.keys.exec(id));
    if (!hash.id) return null;
    const record = parseRecord(hash);
    if (options.logs) {
      const raw = await this.redis.lrange(this.keys.execLogs(id), 0, -1);
      record.logs = raw.map((l) => JSON.parse(l) as ExecutionLogEntry);
    }
    return record;
  }

  /**
   * A page of a job's executions, newest first. The cursor (`<score>:<id>` of the last item) is a
   * position, not an offset, so records added meanwhile neither repeat nor shift a page.
   */
  async listForJob(
    jobId: string,
    q: { status?: ExecutionStatus; limit?: number; cursor?: string } = {},
  ): Promise<{ items: Execution[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(Math.floor(q.limit ?? 50), 1), MAX_PAGE);
    let after = q.cursor ? parseCursor(q.cursor) : undefined;
    const items: Execution[] = [];
    const key = this.keys.jobExecs(jobId);
    const batch = Math.max(limit * 2, 50);
    for (let scanned = 0; scanned < 20; scanned++) {
      const max = after ? String(after.score) : '+inf';
      const flat = await this.redis.zrevrangebyscore(key, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch);
      const rows: { id: string; score: number }[] = [];
      for (let i = 0; i < flat.length; i += 2) rows.push({ id: flat[i], score: Number(flat[i + 1]) });
      // Same score as the cursor: ZREVRANGE orders ties by member descending, so keep ids below it.
      const fresh = after ? rows.filter((r) => r.score < after!.score || r.id < after!.id) : rows;
      if (fresh.length === 0) return { items, nextCursor: null };
      const records = await Promise.all(fresh.map((r) => this.get(r.id)));
      for (let i = 0; i < fresh.length; i++) {
        after = fresh[i];
        const record = records[i];
        if (!record || (q.status && record.status !== q.status)) continue;
        items.push(record);
        if (items.length === limit) {
          const more = i < fresh.length - 1 || rows.length === batch;
          return { items, nextCursor: more ? formatCursor(fresh[i]) : null };
        }
      }
      if (rows.length < batch) return { items, nextCursor: null };
    }
    // A filter matching little of a long history: hand back what we have and where we stopped.
    return { items, nextCursor: after ? formatCursor(after) : null };
  }

  /** Highest slot time (ms) that has a record for this job, or undefined. */
  async lastSlot(jobId: string): Promise<number | undefined> {
    const slots = await this.redis.hkeys(this.keys.jobSlots(jobId));
    if (slots.length === 0) return undefined;
    return Math.max(...slots.map(Number));
  }

  /** The execution id recorded for a slot, or null when the slot has no record (yet). */
  async slotExecutionId(jobId: string, scheduledFor: number): Promise<string | null> {
    return this.redis.hget(this.keys.jobSlots(jobId), String(Math.floor(scheduledFor)));
  }

  /**
   * Begin the next attempt on this worker (see START_LUA for redeliveries). With `log`, that entry
   * is appended in the same step (`{attempt}` in its message becomes the attempt's number).
   */
  async start(
    id: string,
    workerId: string,
    options: { log?: { level: LogLevel; component: string; message: string } } = {},
  ): Promise<StartResult> {
    const now = this.iso();
    const entry = options.log ? JSON.stringify({ ts: now, ...options.log } satisfies ExecutionLogEntry) : '';
    const reply = await this.script<[string, number?, number?, string?, string?, string?]>(
      START_LUA,
      [this.keys.exec(id), this.keys.execLogs(id)],
      [workerId, now, entry, this.maxLogEntries],
    );
    if (reply[0] === 'missing') return { kind: 'missing' };
    if (reply[0] === 'terminal') return { kind: 'terminal', status: String(reply[1]) as ExecutionStatus };
    const started: StartResult = { kind: 'started', attempt: Number(reply[1]), redelivered: Number(reply[2]) === 1 };
    if (reply[3]) started.cancelRequestedAt = reply[3];
    if (reply[4]) started.cancelReason = reply[4];
    if (reply[5]) started.jitterMs = Number(reply[5]);
    return started;
  }

  /** Record the jitter delay of a scheduled run before it starts; false once it is no longer queued. */
  async setJitter(id: string, jitterMs: number): Promise<boolean> {
    return (await this.script<number>(JITTER_LUA, [this.keys.exec(id)], [Math.round(jitterMs)])) === 1;
  }

  async recordStage(id: string, attempt: number, stage: StageName, ms: number): Promise<void> {
    await this.fenced(id, attempt, [`stage:${stage}`, Math.round(ms)]);
  }

  async update(id: string, attempt: number, details: ExecutionDetails): Promise<void> {
    const pairs: (string | number)[] = [];
    for (const field of JSON_FIELDS)
      if (details[field] !== undefined) pairs.push(field, JSON.stringify(details[field]));
    if (pairs.length) await this.fenced(id, attempt, pairs);
  }

  /**
   * Write what the running `attempt` buffered (log entries in order, stage timings) in one fenced
   * step. Throws StaleAttemptError when `attempt` is not current (nothing is written then).
   */
  async append(id: string, attempt: number, writes: AttemptWrites): Promise<void> {
    const logs = this.entries(writes);
    const pairs = stagePairs(writes);
    if (logs.length === 0 && pairs.length === 0) return;
    const ok = await this.script<number>(
      APPEND_LUA,
      [this.keys.exec(id), this.keys.execLogs(id)],
      [attempt, this.maxLogEntries, logs.length, ...logs, ...pairs],
    );
    if (ok !== 1) throw new StaleAttemptError(id, attempt);
  }

  /**
   * Append a log line. With `attempt`, only while that attempt is current (a stale worker's lines
   * are dropped); returns whether it was written.
   */
  async log(
    id: string,
    entry: { level: LogLevel; component: string; message: string },
    attempt?: number,
  ): Promise<boolean> {
    const line: ExecutionLogEntry = { ts: this.iso(), ...entry };
    const reply = await this.script<number>(
      LOG_LUA,
      [this.keys.exec(id), this.keys.execLogs(id)],
      [attempt === undefined ? '' : attempt, JSON.stringify(line), this.maxLogEntries],
    );
    return reply === 1;
  }

  /**
   * End the current attempt and the run: succeeded | failed | cancelled | timed_out | skipped.
   * Throws StaleAttemptError when `attempt` is not current. `writes` (the attempt's buffered log
   * entries and stage timings), the outcome and the job's retention are one Lua step.
   */
  async finish(
    id: string,
    attempt: number,
    outcome: {
      status: Extract<ExecutionStatus, 'succeeded' | 'failed' | 'cancelled' | 'timed_out' | 'skipped'>;
      error?: ExecutionError | null;
      reason?: string | null;
      details?: ExecutionDetails;
      retention?: Retention;
      writes?: AttemptWrites;
    },
  ): Promise<void> {
    const extra: (string | number)[] = [...stagePairs(outcome.writes)];
    for (const field of JSON_FIELDS) {
      const value = outcome.details?.[field];
      if (value !== undefined) extra.push(field, JSON.stringify(value));
    }
    const ok = await this.finishScript(id, {
      attempt,
      status: outcome.status,
      recordFinished: true,
      error: outcome.error,
      reason: outcome.reason ?? '',
      attemptOutcome: outcome.status,
      retention: outcome.retention,
      logs: this.entries(outcome.writes),
      extra,
    });
    if (ok !== 1) throw new StaleAttemptError(id, attempt);
  }

  /**
   * Hand the run back to the queue (a retry after a failed attempt, or an attempt interrupted by
   * a shutdown): the record goes back to `queued`, the attempt keeps its outcome.
   */
  async requeue(
    id: string,
    attempt: number,
    outcome: {
      attemptStatus: 'failed' | 'interrupted';
      error?: ExecutionError | null;
      reason: string;
      writes?: AttemptWrites;
    },
  ): Promise<void> {
    const ok = await this.finishScript(id, {
      attempt,
      status: 'queued',
      recordFinished: false,
      error: outcome.error,
      reason: outcome.reason,
      attemptOutcome: outcome.attemptStatus,
      logs: this.entries(outcome.writes),
      extra: stagePairs(outcome.writes),
    });
    if (ok !== 1) throw new StaleAttemptError(id, attempt);
  }

  /**
   * End a record that never started (overlap skip, deleted or disabled job, missed slot, cancel
   * before start). False when it is no longer queued.
   */
  async finishUnstarted(
    id: string,
    outcome: {
      status: Extract<ExecutionStatus, 'skipped' | 'cancelled' | 'missed'>;
      reason: string;
      retention?: Retention;
    },
  ): Promise<boolean> {
    const ok = await this.finishScript(id, {
      attempt: '',
      status: outcome.status,
      recordFinished: true,
      reason: outcome.reason,
      attemptOutcome: outcome.status,
      retention: outcome.retention,
      logs: [],
      extra: [],
    });
    return ok === 1;
  }

  /**
   * Ask for a cancel: a queued record is cancelled at once; a running one is flagged for its worker
   * and its id published on `P:exec:cancel` for the worker running it; a finished one is left alone.
   */
  async requestCancel(
    id: string,
    reason = 'cancelled by request',
  ): Promise<'cancelled' | 'signalled' | 'finished' | 'missing'> {
    if (!EXECUTION_ID_PATTERN.test(id)) return 'missing';
    return this.script(CANCEL_LUA, [this.keys.exec(id)], [this.iso(), reason, this.keys.execCancel, id]);
  }

  /**
   * Record a re-upload request on a finished execution that has an uploaded bundle. `pending` when
   * an earlier request is still queued (less than `staleMs` old).
   */
  async requestReupload(
    id: string,
    input: { requestedBy: string; requestedAt?: Date; staleMs?: number },
  ): Promise<
    { kind: 'queued'; reupload: ExecutionReupload } | { kind: 'pending' | 'missing' | 'unfinished' | 'no-bundle' }
  > {
    if (!EXECUTION_ID_PATTERN.test(id)) return { kind: 'missing' };
    const at = input.requestedAt ?? this.now();
    const from = await this.redis.hget(this.keys.exec(id), 'upload');
    const reupload: ExecutionReupload = {
      status: 'queued',
      requestedAt: at.toISOString(),
      requestedBy: input.requestedBy,
      from: from ? (JSON.parse(from) as { url: string }).url : '',
    };
    const reply = await this.script<string>(
      REUPLOAD_REQUEST_LUA,
      [this.keys.exec(id)],
      [JSON.stringify(reupload), at.getTime(), input.staleMs ?? 600_000],
    );
    if (reply === 'queued') return { kind: 'queued', reupload };
    return { kind: reply as 'pending' | 'missing' | 'unfinished' | 'no-bundle' };
  }

  /**
   * Record the outcome of the re-upload asked for at `requestedAt`; on success the record's `upload`
   * points at the new copy. False when a newer request replaced that one.
   */
  async recordReupload(
    id: string,
    requestedAt: string,
    outcome: { status: 'succeeded'; url: string; ms: number } | { status: 'failed'; error: string; ms: number },
  ): Promise<boolean> {
    const current = await this.get(id);
    if (!current?.reupload || current.reupload.requestedAt !== requestedAt) return false;
    const result: ExecutionReupload = { ...current.reupload, ...outcome, finishedAt: this.iso() };
    const upload = outcome.status === 'succeeded' ? JSON.stringify({ url: outcome.url, ms: outcome.ms }) : '';
    const reply = await this.script<number>(
      REUPLOAD_RESULT_LUA,
      [this.keys.exec(id)],
      [requestedAt, JSON.stringify(result), upload],
    );
    return reply === 1;
  }

  /** Apply a job's retention now; returns how many records were deleted. */
  async prune(jobId: string, retention: Retention, maxDeletes = 500): Promise<number> {
    const cutoff = this.now().getTime() - retention.days * 86_400_000;
    return this.script<number>(
      PRUNE_LUA,
      [this.keys.jobExecs(jobId), this.keys.jobSlots(jobId)],
      [this.keys.execPrefix, retention.executions, cutoff, maxDeletes],
    );
  }

  /** FINISH_LUA: the outcome, buffered writes and retention (of the record's job) in one step. */
  private finishScript(
    id: string,
    o: {
      attempt: number | '';
      status: string;
      recordFinished: boolean;
      error?: ExecutionError | null;
      reason: string;
      attemptOutcome: string;
      retention?: Retention;
      logs: string[];
      extra: (string | number)[];
    },
  ): Promise<number> {
    const cutoff = o.retention ? this.now().getTime() - o.retention.days * 86_400_000 : '';
    return this.script<number>(
      FINISH_LUA,
      [this.keys.exec(id), this.keys.execLogs(id)],
      [
        o.attempt,
        o.status,
        this.iso(),
        o.recordFinished ? '1' : '0',
        o.error ? JSON.stringify(o.error) : '',
        o.reason,
        o.attemptOutcome,
        this.maxLogEntries,
        o.logs.length,
        o.retention ? o.retention.executions : '',
        cutoff,
        500,
        this.keys.execPrefix,
        this.keys.jobExecs('').slice(0, -':execs'.length),
        ...o.logs,
        ...o.extra,
      ],
    );
  }

  /** Buffered log entries as stored, newest `maxLogEntries` only (the list keeps no more). */
  private entries(writes: AttemptWrites | undefined): string[] {
    const logs = writes?.logs ?? [];
    return logs.slice(Math.max(0, logs.length - this.maxLogEntries)).map((l) => JSON.stringify(l));
  }

  private async fenced(id: string, attempt: number, pairs: (string | number)[]): Promise<void> {
    const ok = await this.script<number>(UPDATE_LUA, [this.keys.exec(id)], [attempt, ...pairs]);
    if (ok !== 1) throw new StaleAttemptError(id, attempt);
  }

  private initialFields(
    id: string,
    input: { jobId: string; trigger: Trigger; scheduledFor: number; status?: ExecutionStatus; reason?: string },
    slot: string,
  ): string[] {
    const now = this.iso();
    const status = input.status ?? 'queued';
    const finished = status === 'queued' || status === 'running' ? '' : now;
    return [
      'id', id,
      'jobId', input.jobId,
      'trigger', input.trigger,
      'status', status,
      'scheduledFor', new Date(input.scheduledFor).toISOString(),
      'queuedAt', now,
      'createdAt', String(this.now().getTime()),
      'finishedAt', finished,
      'reason', input.reason ?? '',
      'attempt', '0',
      'slot', slot,
    ]; // prettier-ignore
  }

  private iso(): string {
    return this.now().toISOString();
  }

  private async script<T>(source: string, keys: string[], args: (string | number)[]): Promise<T> {
    return runScript<T>(this.redis, source, keys, args);
  }
}

function stagePairs(writes: AttemptWrites | undefined): (string | number)[] {
  const pairs: (string | number)[] = [];
  for (const name of STAGE_NAMES) {
    const ms = writes?.stages?.[name];
    if (ms !== undefined) pairs.push(`stage:${name}`, Math.round(ms));
  }
  return pairs;
}

function pairsToHash(flat: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
  return hash;
}

function parseRecord(h: Record<string, string>): Execution {
  const stages: Execution['stages'] = {};
  for (const name of STAGE_NAMES) {
    const ms = h[`stage:${name}`];
    if (ms !== undefined) stages[name] = { ms: Number(ms) };
  }
  const attempts: ExecutionAttempt[] = Object.keys(h)
    .filter((k) => /^a:\d+$/.test(k))
    .map((k) => JSON.parse(h[k]) as ExecutionAttempt)
    .sort((a, b) => a.attempt - b.attempt);
  const status = (EXECUTION_STATUSES as readonly string[]).includes(h.status)
    ? (h.status as ExecutionStatus)
    : 'failed';
  const record: Execution = {
    id: h.id,
    jobId: h.jobId,
    trigger: h.trigger as Trigger,
    scheduledFor: h.scheduledFor || null,
    queuedAt: h.queuedAt || null,
    startedAt: h.startedAt || null,
    finishedAt: h.finishedAt || null,
    status,
    reason: h.reason || null,
    attempt: Number(h.attempt ?? 0),
    workerId: h.workerId || null,
    stages,
    error: h.error ? (JSON.parse(h.error) as ExecutionError) : null,
    attempts,
    cancelRequestedAt: h.cancelRequested || null,
    cancelReason: h.cancelReason || null,
  };
  if (h.reupload) record.reupload = JSON.parse(h.reupload) as ExecutionReupload;
  if (h.jitterMs) record.jitterMs = Number(h.jitterMs);
  for (const field of JSON_FIELDS) {
    if (h[field]) (record as unknown as Record<string, unknown>)[field] = JSON.parse(h[field]);
  }
  return record;
}

function formatCursor(at: { score: number; id: string }): string {
  return `${at.score}:${at.id}`;
}

function parseCursor(cursor: string): { score: number; id: string } {
  const at = cursor.lastIndexOf(':');
  const score = Number(cursor.slice(0, at));
  const id = cursor.slice(at + 1);
  if (at <= 0 || !Number.isFinite(score) || !EXECUTION_ID_PATTERN.test(id)) {
    throw new ValidationError([{ path: 'cursor', message: 'is not a cursor this listing returned' }]);
  }
  return { score, id };
}
