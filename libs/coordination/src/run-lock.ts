import type { Redis } from 'ioredis';
import type { RedisKeys } from '@cronbundle/redis';
import { Clock, LeaseDeadline, systemClock } from './clock';
import { ownerToken } from './lease';
import { RELEASE_LUA, RENEW_LUA, runScript } from './redis-script';

/** A run lock this process holds; pass it back to extend, release or keepAlive. */
export interface HeldRunLock {
  jobId: string;
  executionId: string;
  token: string;
  ttlMs: number;
  startedAt: string;
  /** The delivery (BullMQ job id) the lock was taken for, when one was given. */
  deliveryId?: string;
  /** True when the acquire took the lock over from an earlier attempt of the same delivery. */
  takenOver?: boolean;
}

/** What the API shows in its 409 body (ARCHITECTURE.md §6) and in job status. */
export interface RunLockInfo {
  runningExecutionId: string;
  startedAt: string;
  lockExpiresAt: string;
}

export type RunLockLostReason =
  /** An extend found the lock no longer ours (it expired and was taken, or was deleted). */
  | 'lost'
  /** No extend was confirmed for (nearly) a whole ttl (Redis unreachable, process paused): it may be gone. */
  | 'expired';

export interface KeepAliveOptions {
  /** Default ttl/3. */
  intervalMs?: number;
  onLost?: (reason: RunLockLostReason) => void;
  clock?: Clock;
}

export interface KeepAlive {
  /** Aborted (reason: the RunLockLostReason) when the lock is lost; hand it to the run so it stops. */
  readonly signal: AbortSignal;
  stop(): void;
}

/**
 * Take a run lock. KEYS: lock key; ARGV: value, ttlMs, executionId, deliveryId ('' for none).
 * Free: set it (1). Held by the same execution *and* the same delivery: a redelivery of that
 * delivery after its worker was declared dead; overwrite it with the new value, whose new token
 * fences the old holder out (2). Anything else: 0.
 */
const ACQUIRE_LUA = `
local v = redis.call('GET', KEYS[1])
if v then
  if ARGV[4] == '' then return 0 end
  local ok, d = pcall(cjson.decode, v)
  if not (ok and type(d) == 'table' and d.executionId == ARGV[3] and d.deliveryId == ARGV[4]) then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

const READ_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
return { v, redis.call('PTTL', KEYS[1]) }
`;

/**
 * Per-job run locks for overlap policies (ARCHITECTURE.md §8), key `P:lock:run:<jobId>`, value
 * JSON `{token, executionId, startedAt, deliveryId?}` with PX. Extend and release are
 * compare-and-set on the token, so a run whose lock expired or was taken over can never extend or
 * free the new holder's.
 *
 * Takeover: an acquire naming the execution *and* the delivery (the BullMQ job id) that hold the
 * lock succeeds at once with a new token. BullMQ hands a delivery out again while its run lock is
 * still held only when the previous one is over (it ended but could not release, Redis being
 * down) or when its stalled check found the holder's BullMQ lock expired (its process died, or its
 * event loop was blocked for longer than the BullMQ lock): the new attempt need not wait for the
 * old one's lease. The old holder's extend and release are refused from then on (its
 * keepAlive reports `lost` and aborts the run if the process is in fact alive). Another execution,
 * or the same execution under another delivery, still finds the lock held.
 */
export class RunLock {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ownerId = 'run',
  ) {}

  /**
   * Take the job's lock for one execution; null when it is held, unless it is held for the same
   * execution and the same `deliveryId` (a redelivery: see the class comment), which takes it over.
   */
  async acquire(input: {
    jobId: string;
    executionId: string;
    ttlMs: number;
    deliveryId?: string;
  }): Promise<HeldRunLock | null> {
    const lock: HeldRunLock = {
      jobId: input.jobId,
      executionId: input.executionId,
      token: ownerToken(`${this.ownerId}/${input.executionId}`),
      ttlMs: Math.ceil(input.ttlMs),
      startedAt: new Date().toISOString(),
      ...(input.deliveryId ? { deliveryId: input.deliveryId } : {}),
    };
    const value = JSON.stringify({
      token: lock.token,
      executionId: lock.executionId,
      startedAt: lock.startedAt,
      ...(lock.deliveryId ? { deliveryId: lock.deliveryId } : {}),
    });
    const reply = await runScript<number>(
      this.redis,
      ACQUIRE_LUA,
      [this.keys.runLock(input.jobId)],
      [value, lock.ttlMs, lock.executionId, lock.deliveryId ?? ''],
    );
    if (reply === 0) return null;
    if (reply === 2) lock.takenOver = true;
    return lock;
  }

  /** Reset the ttl (to `ttlMs`, default the lock's own); false when the lock is no longer ours. */
  async extend(lock: HeldRunLock, ttlMs = lock.ttlMs): Promise<boolean> {
    const reply = await runScript<number>(
      this.redis,
      RENEW_LUA,
      [this.keys.runLock(lock.jobId)],
      [lock.token, Math.ceil(ttlMs)],
    );
    return reply === 1;
  }

  /** Free the lock if still ours; false when it had already expired or been taken. */
  async release(lock: HeldRunLock): Promise<boolean> {
    const reply = await runScript<number>(
      this.redis,
      RELEASE_LUA,
      [this.keys.runLock(lock.jobId)],
      [lock.token, '', ''],
    );
    return reply === 1;
  }

  /** Who holds the job's lock, or null when it is free. */
  async inspect(jobId: string): Promise<RunLockInfo | null> {
    const reply = await runScript<[string, number] | null>(this.redis, READ_LUA, [this.keys.runLock(jobId)], []);
    if (!reply) return null;
    const [raw, pttl] = reply;
    let value: { executionId?: unknown; startedAt?: unknown };
    try {
      value = JSON.parse(raw) as typeof value;
    } catch {
      return null;
    }
    return {
      runningExecutionId: String(value.executionId),
      startedAt: String(value.startedAt),
      lockExpiresAt: new Date(Date.now() + Math.max(0, Number(pttl))).toISOString(),
    };
  }

  /**
   * Extend the lock every `intervalMs` (default ttl/3) while the run is alive. When an extend
   * says the lock is gone, or none has succeeded for a whole ttl (measured on the monotonic clock
   * from when the last good one was sent), abort the signal and call onLost once.
   */
  keepAlive(lock: HeldRunLock, options: KeepAliveOptions = {}): KeepAlive {
    const clock = options.clock ?? systemClock;
    const intervalMs = options.intervalMs ?? lock.ttlMs / 3;
    const controller = new AbortController();
    // Counted from now rather than from the acquire, so keep 10% for the time since it.
    const deadline = new LeaseDeadline(lock.ttlMs, 0.9);
    deadline.confirm(clock.now());
    let timer: unknown;
    let watchdog: unknown;
    let stopped = false;

    const halt = () => {
      stopped = true;
      clock.clearTimeout(timer);
      clock.clearTimeout(watchdog);
    };
    const lose = (reason: RunLockLostReason) => {
      if (stopped) return;
      halt();
      controller.abort(reason);
      options.onLost?.(reason);
    };
    // Fires even while an extend hangs (Redis paused or unreachable with commands queued).
    const armWatchdog = () => {
      clock.clearTimeout(watchdog);
      watchdog = clock.setTimeout(() => {
        if (deadline.isValid(clock.now())) armWatchdog();
        else lose('expired');
      }, deadline.remaining(clock.now()));
    };
    const tick = async () => {
      if (stopped) return;
      const sentAt = clock.now();
      let retryMs = intervalMs;
      try {
        if (!(await this.extend(lock))) return lose('lost');
        // A successful compare-and-set proves the lock stayed ours, however late the reply.
        if (stopped) return;
        deadline.confirm(sentAt);
        armWatchdog();
      } catch {
        // Redis unreachable: retry sooner; the watchdog decides when the lock has expired.
        retryMs = Math.min(intervalMs, 250);
      }
      if (!stopped) timer = clock.setTimeout(() => void tick(), retryMs);
    };
    armWatchdog();
    timer = clock.setTimeout(() => void tick(), intervalMs);

    return {
      signal: controller.signal,
      stop: halt,
    };
  }
}
