import { performance } from 'node:perf_hooks';

/**
 * Monotonic time and timers, injected so the timing logic can be tested with a fake clock.
 * `now()` must not jump with wall-clock changes (NTP, DST); it keeps counting while the process
 * is stopped (SIGSTOP) or paused by GC, which is what lets a paused leader notice the gap.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, Math.max(0, ms));
    // Coordination timers never keep a process alive on their own; the app's server does.
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Fraction of the lease a holder trusts after a confirmed acquire/renew, leaving room for clock drift and lag. */
export const DEFAULT_SAFETY_RATIO = 0.8;

/**
 * How long a lease holder may still act on its lease. A confirmed acquire or renew that was SENT
 * at monotonic time `t` means Redis set the expiry at or after `t + leaseMs`, so the holder is
 * safe until `t + leaseMs * safetyRatio`, whenever the reply arrives.
 */
export class LeaseDeadline {
  private validUntil = Number.NEGATIVE_INFINITY;
  readonly safeMs: number;

  constructor(
    readonly leaseMs: number,
    safetyRatio = DEFAULT_SAFETY_RATIO,
  ) {
    if (!(leaseMs > 0)) throw new RangeError(`leaseMs must be > 0, got ${leaseMs}`);
    if (!(safetyRatio > 0 && safetyRatio < 1))
      throw new RangeError(`safetyRatio must be in (0, 1), got ${safetyRatio}`);
    this.safeMs = leaseMs * safetyRatio;
  }

  /** Record a confirmed acquire/renew that was sent at `sentAt`. A late, older confirmation never shortens it. */
  confirm(sentAt: number): void {
    this.validUntil = Math.max(this.validUntil, sentAt + this.safeMs);
  }

  reset(): void {
    this.validUntil = Number.NEGATIVE_INFINITY;
  }

  isValid(now: number): boolean {
    return now < this.validUntil;
  }

  /** Milliseconds left (<= 0 when expired). */
  remaining(now: number): number {
    return this.validUntil - now;
  }
}

export interface ElectionTimings {
  /** Leader renews this often. */
  renewEveryMs: number;
  /** Followers try to acquire this often (a release message wakes them earlier). */
  followerPollMs: number;
  /** After a failed renew (an error, not a lost lease) the leader retries this soon. */
  renewRetryMs: number;
}

export function electionTimings(leaseMs: number): ElectionTimings {
  return {
    renewEveryMs: leaseMs / 3,
    followerPollMs: Math.min(leaseMs / 5, 1000),
    renewRetryMs: Math.min(leaseMs / 10, 250),
  };
}
