import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { RedisKeys } from '@cronbundle/redis';
import { RedisServer, connectTestRedis, deletePrefix, testPrefix, waitFor, withDeadline } from '@cronbundle/testing';
import { NotLeaderError, StaleEpochError } from './coordination.errors';
import { FencedWriter } from './fenced-writer';
import { ElectedEvent, LeaderElector, LeaderElectorOptions, LostEvent } from './leader-elector';

function nextEvent<K extends 'elected' | 'lost'>(
  elector: LeaderElector,
  name: K,
  timeoutMs = 5000,
): Promise<K extends 'elected' ? ElectedEvent : LostEvent> {
  return withDeadline(
    once(elector, name).then(([event]) => event as K extends 'elected' ? ElectedEvent : LostEvent),
    timeoutMs,
    `${elector.instanceId} to emit ${name}`,
  );
}

/** Electors with their own connections, closed together at the end of each test. */
class Cluster {
  private readonly electors: LeaderElector[] = [];
  private readonly clients: Redis[] = [];

  constructor(
    private readonly keys: RedisKeys,
    private readonly url?: string,
  ) {}

  connect(): Redis {
    const client = connectTestRedis(this.url);
    client.on('error', () => undefined);
    this.clients.push(client);
    return client;
  }

  elector(instanceId: string, options: Partial<LeaderElectorOptions> = {}): LeaderElector {
    const subscriber = this.connect();
    const elector = new LeaderElector({
      redis: this.connect(),
      keys: this.keys,
      instanceId,
      subscriber: () => subscriber,
      ...options,
    });
    this.electors.push(elector);
    return elector;
  }

  async close(): Promise<void> {
    await Promise.all(this.electors.map((e) => e.stop()));
    this.clients.forEach((c) => c.disconnect());
  }
}

describe('LeaderElector against a real redis-server', () => {
  let admin: Redis;
  let keys: RedisKeys;
  let cluster: Cluster;

  beforeAll(() => {
    admin = connectTestRedis();
  });
  beforeEach(() => {
    keys = new RedisKeys(testPrefix());
    cluster = new Cluster(keys);
  });
  afterEach(async () => {
    await cluster.close();
    await deletePrefix(admin, keys.prefix);
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('elects a single instance and shows it as the current leader', async () => {
    const a = cluster.elector('host-a:1', { leaseMs: 3000 });
    const elected = nextEvent(a, 'elected');
    await a.start();
    const { epoch, since } = await elected;
    expect(a.isLeader).toBe(true);
    expect(a.epoch).toBe(epoch);
    expect(a.leaderEpoch()).toBe(epoch);
    expect(a.assertLeader().epoch).toBe(epoch);
    const leader = await a.currentLeader();
    expect(leader).toMatchObject({ id: 'host-a:1', epoch, since: since.toISOString() });
    expect(leader!.ttlMs).toBeGreaterThan(0);
    expect(leader!.ttlMs).toBeLessThanOrEqual(3000);
  });

  it('keeps the lease by renewing it, and a second instance stays follower', async () => {
    const a = cluster.elector('a', { leaseMs: 500 });
    const b = cluster.elector('b', { leaseMs: 500 });
    const elected = nextEvent(a, 'elected');
    await a.start();
    await elected;
    await b.start();
    // Several leases long: without renewals the lease would have expired and b would have taken it.
    const lostOrElected = jest.fn();
    a.on('lost', lostOrElected);
    b.on('elected', lostOrElected);
    const ttls: number[] = [];
    await waitFor(
      async () => {
        ttls.push((await a.currentLeader())?.ttlMs ?? -1);
        return ttls.length >= 24;
      },
      { what: '1.2 s of leadership', intervalMs: 50 },
    );
    expect(ttls.every((t) => t > 0)).toBe(true);
    expect(lostOrElected).not.toHaveBeenCalled();
    expect(a.isLeader).toBe(true);
    expect(b.isLeader).toBe(false);
    expect(() => b.assertLeader()).toThrow(NotLeaderError);
  });

  it('graceful stop hands over to a follower in well under a second, with a higher epoch', async () => {
    // Followers would poll only every 10 s: a quick takeover proves the release message woke them.
    const a = cluster.elector('a', { leaseMs: 5000, followerPollMs: 10_000 });
    const b = cluster.elector('b', { leaseMs: 5000, followerPollMs: 10_000 });
    const aElected = nextEvent(a, 'elected');
    await a.start();
    const first = await aElected;
    await b.start();
    const aLost = nextEvent(a, 'lost');
    const bElected = nextEvent(b, 'elected');
    const stoppedAt = performance.now();
    await a.stop();
    expect((await aLost).reason).toBe('stopped');
    const second = await bElected;
    const handoverMs = performance.now() - stoppedAt;
    expect(handoverMs).toBeLessThan(1500);
    expect(second.epoch).toBeGreaterThan(first.epoch);
    expect((await b.currentLeader())!.id).toBe('b');
    expect(a.isLeader).toBe(false);
  });

  it("takes over right when a crashed leader's lease expires, not a poll interval later", async () => {
    // A leader that died without releasing: its lease just runs out.
    const sentAt = performance.now();
    await admin.set(keys.leader, JSON.stringify({ token: 'dead/x', owner: 'dead', epoch: 7, since: 0 }), 'PX', 800);
    const expiresAt = sentAt + 800;
    // Polling every 10 s: only the expiry the refused acquire reported explains a quick takeover.
    const b = cluster.elector('b', { leaseMs: 5000, followerPollMs: 10_000 });
    const elected = nextEvent(b, 'elected');
    await b.start();
    await elected;
    const lateMs = performance.now() - expiresAt;
    expect(lateMs).toBeGreaterThanOrEqual(-5);
    expect(lateMs).toBeLessThan(300);
    expect((await b.currentLeader())!.id).toBe('b');
  });

  it('epochs strictly increase across leaderships', async () => {
    const epochs: number[] = [];
    for (const id of ['a', 'b', 'c']) {
      const e = cluster.elector(id, { leaseMs: 2000 });
      const elected = nextEvent(e, 'elected');
      await e.start();
      epochs.push((await elected).epoch);
      await e.stop();
    }
    expect(epochs[1]).toBeGreaterThan(epochs[0]);
    expect(epochs[2]).toBeGreaterThan(epochs[1]);
  });

  it('steps down with lease-lost when a renewal finds the lease taken', async () => {
    const a = cluster.elector('a', { leaseMs: 600, followerPollMs: 10_000 });
    const elected = nextEvent(a, 'elected');
    await a.start();
    await elected;
    const lost = nextEvent(a, 'lost');
    await admin.set(
      keys.leader,
      JSON.stringify({ token: 'intruder/x', owner: 'intruder', epoch: 99, since: Date.now() }),
      'PX',
      5000,
    );
    expect((await lost).reason).toBe('lease-lost');
    expect(a.isLeader).toBe(false);
    expect((await a.currentLeader())!.id).toBe('intruder');
  });

  it('after an event-loop stall longer than the lease, refuses leader work before any timer runs', async () => {
    const a = cluster.elector('a', { leaseMs: 400 });
    const elected = nextEvent(a, 'elected');
    await a.start();
    const { epoch } = await elected;
    const lost = jest.fn();
    a.on('lost', lost);
    // A synchronous stall, like a long GC pause: no timer or reply can run meanwhile.
    const until = performance.now() + 500;
    while (performance.now() < until) {
      /* stall */
    }
    expect(a.isLeader).toBe(false);
    expect(a.leaderEpoch()).toBeNull();
    expect(() => a.assertLeader()).toThrow(NotLeaderError);
    expect(lost).toHaveBeenCalledWith({ reason: 'renewal-timeout', epoch });
    // It competes again afterwards, under a new epoch.
    const again = await nextEvent(a, 'elected');
    expect(again.epoch).toBeGreaterThan(epoch);
  });
});

describe('LeaderElector when Redis stops answering (CLIENT PAUSE on a private server)', () => {
  let server: RedisServer;
  let admin: Redis;
  let keys: RedisKeys;
  let cluster: Cluster;

  beforeAll(async () => {
    // Private: pausing the shared server would stall every other test file.
    server = await RedisServer.start();
    admin = connectTestRedis(server.url);
    keys = new RedisKeys(testPrefix());
    cluster = new Cluster(keys, server.url);
  });
  afterAll(async () => {
    await cluster.close();
    await admin.quit();
    await server.stop();
  });

  it('steps down before its lease expires, a follower takes over, and the old fence is refused', async () => {
    const leaseMs = 1000;
    const a = cluster.elector('a', { leaseMs });
    const b = cluster.elector('b', { leaseMs });
    const aElected = nextEvent(a, 'elected');
    await a.start();
    const first = await aElected;
    await b.start();
    const fence = a.assertLeader();

    // Renewals only push the expiry later, so this is a lower bound on when the lease can expire.
    const sentAt = performance.now();
    const pttl = await admin.pttl(keys.leader);
    expect(pttl).toBeGreaterThan(0);
    const expiresNoEarlierThan = sentAt + pttl;

    const aLost = nextEvent(a, 'lost');
    // Either may win once Redis answers again (a competes again after stepping down); both are fine.
    const nextLeader = withDeadline(
      new Promise<{ elector: LeaderElector; event: ElectedEvent }>((resolve) => {
        for (const elector of [a, b]) elector.once('elected', (event) => resolve({ elector, event }));
      }),
      10_000,
      'a new leader after the pause',
    );
    await admin.client('PAUSE', 2 * leaseMs, 'ALL');
    const lost = await aLost;
    const lostAt = performance.now();
    expect(lost.reason).toBe('renewal-timeout');
    expect(lostAt).toBeLessThan(expiresNoEarlierThan);
    expect(a.isLeader).toBe(false);
    expect(() => a.assertLeader()).toThrow(NotLeaderError);

    const { elector: leader, event: second } = await nextLeader;
    expect(second.epoch).toBeGreaterThan(first.epoch);
    const writer = new FencedWriter(admin, keys);
    await expect(writer.setFenced(fence, `${keys.prefix}:last-slot`, 'from-a')).rejects.toBeInstanceOf(StaleEpochError);
    await writer.setFenced(leader.assertLeader(), `${keys.prefix}:last-slot`, 'from-b');
    expect(await admin.get(`${keys.prefix}:last-slot`)).toBe('from-b');
  });
});
