import { RedisKeys } from '@cronbundle/redis';
import type { Redis } from 'ioredis';
import type { Clock } from './clock';
import { NotLeaderError } from './coordination.errors';
import { LeaderElector, LeaderLease, LostEvent } from './leader-elector';
import type { LeaseBusy, LeaseGrant, LeaseHolder } from './lease';

/** Manual monotonic clock: timers run only when the test advances time. */
class FakeClock implements Clock {
  private t = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Jump without running timers, like a process that was stopped. */
  jump(ms: number): void {
    this.t += ms;
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((x, y) => x[1].at - y[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
    await settle();
  }
}

/** Let pending promise callbacks run (stub replies resolve on microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

type Reply<T> =
  { kind: 'value'; value: T } | { kind: 'hang' } | { kind: 'error' } | { kind: 'deferred'; promise: Promise<T> };

/** The lease port, scripted per call by the test. */
class StubLease implements LeaderLease {
  epoch = 0;
  acquireReplies: Reply<boolean>[] = [];
  renewReplies: Reply<boolean>[] = [];
  readonly calls: { op: string; at: number; arg?: string }[] = [];

  constructor(private readonly clock: FakeClock) {}

  private answer<T>(reply: Reply<T> | undefined, fallback: T): Promise<T> {
    if (!reply) return Promise.resolve(fallback);
    if (reply.kind === 'hang') return new Promise<T>(() => undefined);
    if (reply.kind === 'error') return Promise.reject(new Error('connection lost'));
    if (reply.kind === 'deferred') return reply.promise;
    return Promise.resolve(reply.value);
  }
  /** What a refused acquire says about the holder's remaining TTL (null: unknown). */
  heldForMs: number | null = null;
  async tryAcquire(ownerId: string): Promise<LeaseGrant | LeaseBusy> {
    this.calls.push({ op: 'acquire', at: this.clock.now() });
    const ok = await this.answer(this.acquireReplies.shift(), true);
    return ok
      ? { token: `${ownerId}/t${++this.epoch}`, epoch: this.epoch, since: 1_700_000_000_000 }
      : { heldForMs: this.heldForMs };
  }
  async renew(token: string): Promise<boolean> {
    this.calls.push({ op: 'renew', at: this.clock.now(), arg: token });
    return this.answer(this.renewReplies.shift(), true);
  }
  async release(token: string, message?: string): Promise<boolean> {
    this.calls.push({ op: 'release', at: this.clock.now(), arg: `${token} ${message}` });
    return true;
  }
  async holder(): Promise<LeaseHolder | null> {
    return null;
  }
  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }
}

function setup(leaseMs = 3000) {
  const clock = new FakeClock();
  const lease = new StubLease(clock);
  const elector = new LeaderElector({
    // The stub lease replaces every Redis call; the client is never touched.
    redis: undefined as unknown as Redis,
    keys: new RedisKeys('unit'),
    instanceId: 'me',
    leaseMs,
    clock,
    lease,
  });
  const lost: (LostEvent & { at: number })[] = [];
  const elected: number[] = [];
  elector.on('lost', (e) => lost.push({ ...e, at: clock.now() }));
  elector.on('elected', (e) => elected.push(e.epoch));
  return { clock, lease, elector, lost, elected };
}

describe('LeaderElector timing (fake clock, stub lease)', () => {
  it('is elected on start and renews every third of the lease', async () => {
    const { clock, lease, elector, elected } = setup(3000);
    await elector.start();
    await clock.advance(0);
    expect(elected).toEqual([1]);
    expect(elector.isLeader).toBe(true);
    await clock.advance(3000);
    expect(lease.calls.filter((c) => c.op === 'renew').map((c) => c.at)).toEqual([1000, 2000, 3000]);
    expect(elector.isLeader).toBe(true);
  });

  it('steps down when no renewal is confirmed within 80% of the lease, before it could expire', async () => {
    const { clock, lease, elector, lost } = setup(3000);
    lease.renewReplies = [{ kind: 'hang' }];
    await elector.start();
    await clock.advance(2399);
    expect(elector.isLeader).toBe(true);
    expect(lost).toEqual([]);
    await clock.advance(1);
    expect(lost).toEqual([{ reason: 'renewal-timeout', epoch: 1, at: 2400 }]);
    expect(elector.isLeader).toBe(false);
    // It frees the lease if it is still its own, announcing it under its own id.
    expect(lease.calls.at(-1)).toEqual({ op: 'release', at: 2400, arg: 'me/t1 me' });
  });

  it('competes again only after stepping down, on the follower schedule', async () => {
    const { clock, lease, elector, elected } = setup(3000);
    lease.renewReplies = [{ kind: 'hang' }];
    await elector.start();
    await clock.advance(2400);
    expect(lease.count('acquire')).toBe(1);
    await clock.advance(599);
    expect(lease.count('acquire')).toBe(1);
    await clock.advance(1);
    expect(lease.calls.filter((c) => c.op === 'acquire').map((c) => c.at)).toEqual([0, 3000]);
    expect(elected).toEqual([1, 2]);
  });

  it('retries a renewal that failed with an error and stays leader when a retry succeeds', async () => {
    const { clock, lease, elector, lost } = setup(3000);
    lease.renewReplies = [{ kind: 'error' }, { kind: 'error' }, { kind: 'value', value: true }];
    await elector.start();
    await clock.advance(2300);
    expect(lease.calls.filter((c) => c.op === 'renew').map((c) => c.at)).toEqual([1000, 1250, 1500]);
    expect(lost).toEqual([]);
    // Confirmed at 1500: safe until 1500 + 2400.
    await clock.advance(1000);
    expect(elector.isLeader).toBe(true);
  });

  it('steps down with lease-lost when a renewal says the lease is not ours, without releasing', async () => {
    const { clock, lease, elector, lost } = setup(3000);
    lease.renewReplies = [{ kind: 'value', value: false }];
    await elector.start();
    await clock.advance(1000);
    expect(lost).toEqual([{ reason: 'lease-lost', epoch: 1, at: 1000 }]);
    expect(lease.count('release')).toBe(0);
  });

  it('does not trust a renewal confirmed after the safe window closed', async () => {
    const { clock, lease, elector, lost } = setup(3000);
    let confirm!: (v: boolean) => void;
    lease.renewReplies = [{ kind: 'deferred', promise: new Promise<boolean>((r) => (confirm = r)) }];
    await elector.start();
    await clock.advance(1000);
    // The process stalls: the reply is handled before the watchdog timer gets to run.
    clock.jump(2000);
    confirm(true);
    await clock.advance(0);
    expect(lost.map((l) => l.reason)).toEqual(['renewal-timeout']);
    expect(elector.isLeader).toBe(false);
  });

  it('after a pause, assertLeader steps down and refuses before any timer runs', async () => {
    const { clock, elector, lost } = setup(3000);
    await elector.start();
    await clock.advance(0);
    expect(elector.assertLeader()).toEqual({ token: 'me/t1', epoch: 1 });
    clock.jump(2500);
    expect(elector.isLeader).toBe(false);
    expect(elector.leaderEpoch()).toBeNull();
    expect(() => elector.assertLeader()).toThrow(NotLeaderError);
    expect(lost).toEqual([{ reason: 'renewal-timeout', epoch: 1, at: 2500 }]);
  });

  it('does not lead on an acquire whose reply came after the safe window, and releases it', async () => {
    const { clock, lease, elector, elected } = setup(3000);
    let reply!: (v: boolean) => void;
    lease.acquireReplies = [{ kind: 'deferred', promise: new Promise<boolean>((r) => (reply = r)) }];
    await elector.start();
    clock.jump(2500);
    reply(true);
    await clock.advance(0);
    expect(elected).toEqual([]);
    expect(elector.isLeader).toBe(false);
    expect(lease.calls.at(-1)).toMatchObject({ op: 'release', arg: 'me/t1 me' });
  });

  it('follower polls every fifth of the lease while the lease is held elsewhere', async () => {
    const { clock, lease, elector } = setup(3000);
    lease.acquireReplies = Array.from({ length: 4 }, () => ({ kind: 'value', value: false }) as const);
    await elector.start();
    await clock.advance(1900);
    expect(lease.calls.filter((c) => c.op === 'acquire').map((c) => c.at)).toEqual([0, 600, 1200, 1800]);
    expect(elector.isLeader).toBe(false);
  });

  it('a follower told when the lease expires tries again right then, not a poll interval later', async () => {
    const { clock, lease, elector, elected } = setup(3000);
    lease.heldForMs = 1700;
    lease.acquireReplies = [
      { kind: 'value', value: false },
      { kind: 'value', value: false },
    ];
    await elector.start();
    await clock.advance(0);
    // Held for 1700 ms more: the next poll (600 ms) comes first, and learns 250 ms are left.
    lease.heldForMs = 250;
    await clock.advance(600);
    // So it tries at the expiry (+2 ms), not at the next poll (1200), and takes the lease.
    await clock.advance(600);
    expect(lease.calls.filter((c) => c.op === 'acquire').map((c) => c.at)).toEqual([0, 600, 852]);
    expect(elected).toEqual([1]);
  });

  it('stop releases at once and emits lost(stopped)', async () => {
    const { clock, lease, elector, lost } = setup(3000);
    await elector.start();
    await clock.advance(500);
    await elector.stop();
    expect(lost).toEqual([{ reason: 'stopped', epoch: 1, at: 500 }]);
    expect(lease.calls.at(-1)).toEqual({ op: 'release', at: 500, arg: 'me/t1 me' });
    await clock.advance(10_000);
    expect(lease.count('renew')).toBe(0);
    expect(lease.count('acquire')).toBe(1);
  });
});
