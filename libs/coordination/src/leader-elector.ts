import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '@cronbundle/redis';
import { Clock, DEFAULT_SAFETY_RATIO, ElectionTimings, LeaseDeadline, electionTimings, systemClock } from './clock';
import { NotLeaderError } from './coordination.errors';
import { Fence, Lease, LeaseBusy, LeaseGrant, LeaseHolder } from './lease';

export const DEFAULT_LEADER_LEASE_MS = 5000;

export type LostReason =
  /** No renewal was confirmed within the safe part of the lease (Redis slow or unreachable, process paused). */
  | 'renewal-timeout'
  /** A renewal found the lease no longer ours: it expired or another instance holds it. */
  | 'lease-lost'
  /** `stop()` was called. */
  | 'stopped';

export interface ElectedEvent {
  epoch: number;
  /** When the lease was acquired (Redis server time). */
  since: Date;
}

export interface LostEvent {
  reason: LostReason;
  epoch: number;
}

interface ElectorEvents {
  elected: [ElectedEvent];
  lost: [LostEvent];
}

/** The parts of Lease the elector uses; a unit test may pass a stub. */
export type LeaderLease = Pick<Lease, 'tryAcquire' | 'renew' | 'release' | 'holder'>;

/** A follower told the lease expires in N ms tries again this long after that. */
const EXPIRY_MARGIN_MS = 2;

export interface LeaderElectorOptions {
  redis: Redis;
  keys: RedisKeys;
  /** Name of this process in the lease value (`<hostname>:<pid>` in the apps). */
  instanceId: string;
  /** LEADER_LEASE_MS. */
  leaseMs?: number;
  /**
   * How often followers try to take the lease; default leaseMs/5, at most 1 s. A follower that
   * was told when the holder's lease expires tries again right then if that is sooner.
   */
  followerPollMs?: number;
  /** Fraction of the lease trusted after a confirmed renewal (default 0.8). */
  safetyRatio?: number;
  /**
   * A dedicated connection for the release channel (a subscribed connection can run nothing
   * else). Called once, at the first start(); the caller owns and closes it. Without it
   * followers only poll.
   */
  subscriber?: () => Redis;
  clock?: Clock;
  lease?: LeaderLease;
  /** Where to report Redis errors that the elector rides out (it never throws them). */
  onError?: (err: unknown, during: 'acquire' | 'renew' | 'release' | 'subscribe') => void;
}

export interface LeaderInfo {
  id: string;
  epoch: number;
  since: string;
  ttlMs: number;
}

type State = 'idle' | 'follower' | 'leader' | 'stopped';

/**
 * One leader among many instances (ARCHITECTURE.md §8), on a lease renewed every leaseMs/3.
 *
 * Safety rests on the monotonic clock, not on Redis replies arriving in time: leadership is
 * trusted only until `sent time of the last confirmed acquire/renew + leaseMs * safetyRatio`, which
 * is before the lease can expire in Redis. A watchdog steps down at that point, and
 * `assertLeader()` checks it synchronously, so after a process pause (SIGSTOP, a long GC) the
 * first leader action sees that time has passed and refuses, before any timer had a chance to
 * run. Writes that matter go through FencedWriter as well, which Redis itself refuses once a
 * newer epoch exists.
 */
export class LeaderElector extends EventEmitter<ElectorEvents> {
  readonly leaseMs: number;
  readonly instanceId: string;
  private readonly lease: LeaderLease;
  private readonly clock: Clock;
  private readonly deadline: LeaseDeadline;
  private readonly timings: ElectionTimings;
  private readonly channel: string;
  private state: State = 'idle';
  private grant: LeaseGrant | null = null;
  private renewTimer: unknown;
  private watchdogTimer: unknown;
  private pollTimer: unknown;
  private acquiring: Promise<void> | null = null;
  private wakePending = false;
  private subscriber?: Redis;
  private readonly onMessage = (channel: string, message: string) => {
    // Our own release is not a reason to grab the lease straight back.
    if (channel === this.channel && message !== this.instanceId) this.wake();
  };

  constructor(private readonly options: LeaderElectorOptions) {
    super();
    this.leaseMs = options.leaseMs ?? DEFAULT_LEADER_LEASE_MS;
    this.instanceId = options.instanceId;
    this.clock = options.clock ?? systemClock;
    this.deadline = new LeaseDeadline(this.leaseMs, options.safetyRatio ?? DEFAULT_SAFETY_RATIO);
    const timings = electionTimings(this.leaseMs);
    this.timings = { ...timings, followerPollMs: options.followerPollMs ?? timings.followerPollMs };
    this.channel = options.keys.leaderReleased;
    this.lease = options.lease ?? new Lease(options.redis, options.keys.leader, options.keys.leaderEpoch, this.channel);
  }

  /** True only while the last confirmed renewal is recent enough that the lease cannot have expired. */
  get isLeader(): boolean {
    return this.state === 'leader' && this.deadline.isValid(this.clock.now());
  }

  /** Epoch of the current leadership, or null when not leader. */
  get epoch(): number | null {
    return this.isLeader ? this.grant!.epoch : null;
  }

  /** Same as `epoch`, for callers that check before each write. */
  leaderEpoch(): number | null {
    return this.epoch;
  }

  /**
   * The fence for a leader-only write, or NotLeaderError. Steps down first (emitting `lost`) if
   * the safe part of the lease has passed unnoticed, e.g. right after a process pause.
   */
  assertLeader(): Fence {
    if (this.state === 'leader' && !this.deadline.isValid(this.clock.now())) this.stepDown('renewal-timeout');
    if (this.state !== 'leader' || !this.grant) throw new NotLeaderError(`${this.instanceId} is not the leader`);
    return { token: this.grant.token, epoch: this.grant.epoch };
  }

  /** Who leads now according to Redis (any instance may ask, started or not). */
  async currentLeader(): Promise<LeaderInfo | null> {
    const holder: LeaseHolder | null = await this.lease.holder();
    if (!holder) return null;
    return { id: holder.owner, epoch: holder.epoch, since: new Date(holder.since).toISOString(), ttlMs: holder.ttlMs };
  }

  async start(): Promise<void> {
    if (this.state !== 'idle')
      throw new Error(`LeaderElector already ${this.state === 'stopped' ? 'stopped' : 'started'}`);
    this.state = 'follower';
    if (this.options.subscriber) {
      this.subscriber = this.options.subscriber();
      this.subscriber.on('message', this.onMessage);
      try {
        await this.subscriber.subscribe(this.channel);
      } catch (err) {
        // Polling still elects a leader; only the fast handover is lost.
        this.options.onError?.(err, 'subscribe');
      }
    }
    if (this.state === 'follower') this.wake();
  }

  /** Step down at once: release the lease and announce it, so a follower takes over immediately. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasLeader = this.state === 'leader';
    const grant = this.grant;
    this.state = 'stopped';
    this.clearTimers();
    this.grant = null;
    this.deadline.reset();
    if (wasLeader && grant) {
      this.emit('lost', { reason: 'stopped', epoch: grant.epoch });
      await this.release(grant);
    }
    // An acquire in flight releases what it gets once it sees the stopped state.
    await this.acquiring;
    if (this.subscriber) {
      this.subscriber.off('message', this.onMessage);
      await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
    }
  }

  private wake(): void {
    if (this.state !== 'follower') return;
    if (this.acquiring) {
      this.wakePending = true;
      return;
    }
    this.clock.clearTimeout(this.pollTimer);
    let retryInMs = this.timings.followerPollMs;
    this.acquiring = this.contend()
      .then((expiresInMs) => {
        if (expiresInMs !== undefined) retryInMs = Math.min(retryInMs, expiresInMs + EXPIRY_MARGIN_MS);
      })
      .finally(() => {
        this.acquiring = null;
        if (this.state !== 'follower') return;
        if (this.wakePending) {
          this.wakePending = false;
          this.wake();
        } else {
          this.pollTimer = this.clock.setTimeout(() => this.wake(), Math.max(1, retryInMs));
        }
      });
  }

  /**
   * One acquisition attempt. When the lease is held, returns in how many ms (from now) it expires,
   * so a crashed leader is replaced right at its expiry rather than up to a poll interval later.
   */
  private async contend(): Promise<number | undefined> {
    const sentAt = this.clock.now();
    let reply: LeaseGrant | LeaseBusy;
    try {
      reply = await this.lease.tryAcquire(this.instanceId, this.leaseMs);
    } catch (err) {
      this.options.onError?.(err, 'acquire');
      return undefined;
    }
    if (!('token' in reply)) {
      // Redis read the PTTL after we sent, so the lease expires no earlier than sentAt + PTTL (and
      // at most a round trip later: a retry that comes too early just learns the last few ms).
      return reply.heldForMs === null ? undefined : sentAt + reply.heldForMs - this.clock.now();
    }
    const grant = reply;
    if (this.state !== 'follower') {
      await this.release(grant);
      return;
    }
    this.deadline.confirm(sentAt);
    if (!this.deadline.isValid(this.clock.now())) {
      // The reply came so late that the lease may be nearly gone; leading on it would be unsafe.
      this.deadline.reset();
      await this.release(grant);
      return;
    }
    this.state = 'leader';
    this.grant = grant;
    this.wakePending = false;
    this.armWatchdog();
    this.scheduleRenew(sentAt + this.timings.renewEveryMs - this.clock.now());
    this.emit('elected', { epoch: grant.epoch, since: new Date(grant.since) });
  }

  private scheduleRenew(inMs: number): void {
    this.clock.clearTimeout(this.renewTimer);
    this.renewTimer = this.clock.setTimeout(() => void this.renew(), Math.max(0, inMs));
  }

  private armWatchdog(): void {
    this.clock.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = this.clock.setTimeout(() => {
      if (this.state !== 'leader') return;
      if (this.deadline.isValid(this.clock.now())) this.armWatchdog();
      else this.stepDown('renewal-timeout');
    }, this.deadline.remaining(this.clock.now()));
  }

  private async renew(): Promise<void> {
    const grant = this.grant;
    if (this.state !== 'leader' || !grant) return;
    const sentAt = this.clock.now();
    let renewed: boolean;
    try {
      renewed = await this.lease.renew(grant.token, this.leaseMs);
    } catch (err) {
      this.options.onError?.(err, 'renew');
      // Keep trying until the watchdog gives up.
      if (this.grant === grant && this.state === 'leader') this.scheduleRenew(this.timings.renewRetryMs);
      return;
    }
    if (this.grant !== grant || this.state !== 'leader') return;
    if (!renewed) return this.stepDown('lease-lost');
    // A confirmation that arrives after the safe window is not trusted: the window already
    // closed (and the watchdog is about to act), so step down rather than silently resume.
    if (!this.deadline.isValid(this.clock.now())) return this.stepDown('renewal-timeout');
    this.deadline.confirm(sentAt);
    this.armWatchdog();
    this.scheduleRenew(sentAt + this.timings.renewEveryMs - this.clock.now());
  }

  private stepDown(reason: Exclude<LostReason, 'stopped'>): void {
    const grant = this.grant;
    if (this.state !== 'leader' || !grant) return;
    this.state = 'follower';
    this.grant = null;
    this.deadline.reset();
    this.clearTimers();
    this.emit('lost', { reason, epoch: grant.epoch });
    // Best effort: if the lease is still ours, free it now instead of at expiry.
    if (reason === 'renewal-timeout') void this.release(grant);
    // Try again only after stepping down, on the normal follower schedule.
    this.pollTimer = this.clock.setTimeout(() => this.wake(), this.timings.followerPollMs);
  }

  private async release(grant: LeaseGrant): Promise<void> {
    try {
      await this.lease.release(grant.token, this.instanceId);
    } catch (err) {
      this.options.onError?.(err, 'release');
    }
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.renewTimer);
    this.clock.clearTimeout(this.watchdogTimer);
    this.clock.clearTimeout(this.pollTimer);
    this.renewTimer = this.watchdogTimer = this.pollTimer = undefined;
  }
}
