import type { Redis } from 'ioredis';
import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, RedisServer, testPrefix, waitFor } from '@cronbundle/testing';
import { Lease } from './lease';

describe('Lease against a real redis-server', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let lease: Lease;

  beforeAll(() => {
    redis = connectTestRedis();
    keys = new RedisKeys(testPrefix());
  });
  beforeEach(async () => {
    await deletePrefix(redis, keys.prefix);
    lease = new Lease(redis, keys.leader, keys.leaderEpoch, keys.leaderReleased);
  });
  afterAll(async () => {
    await deletePrefix(redis, keys.prefix);
    await redis.quit();
  });

  it('acquires a free lease with a fencing epoch and a token naming the owner', async () => {
    const grant = await lease.acquire('host-a:1', 5000);
    expect(grant).not.toBeNull();
    expect(grant!.epoch).toBe(1);
    expect(grant!.token.startsWith('host-a:1/')).toBe(true);
    expect(await redis.get(keys.leaderEpoch)).toBe('1');
    const holder = await lease.holder();
    expect(holder).toMatchObject({ owner: 'host-a:1', epoch: 1, since: grant!.since });
    expect(Math.abs(holder!.since - Date.now())).toBeLessThan(5000);
    expect(holder!.ttlMs).toBeGreaterThan(4000);
  });

  it('a second contender cannot acquire while the lease is held, and gets no epoch', async () => {
    expect(await lease.acquire('a', 5000)).not.toBeNull();
    expect(await lease.acquire('b', 5000)).toBeNull();
    expect(await redis.get(keys.leaderEpoch)).toBe('1');
    expect((await lease.holder())!.owner).toBe('a');
  });

  it('a refused contender learns how long the lease is still held', async () => {
    expect(await lease.tryAcquire('a', 2000)).toMatchObject({ epoch: 1 });
    const busy = await lease.tryAcquire('b', 5000);
    expect(busy).toEqual({ heldForMs: expect.any(Number) });
    expect((busy as { heldForMs: number }).heldForMs).toBeGreaterThan(1500);
    expect((busy as { heldForMs: number }).heldForMs).toBeLessThanOrEqual(2000);
  });

  it('renews only with its own token', async () => {
    const grant = (await lease.acquire('a', 300))!;
    expect(await lease.renew('a/not-the-token', 10_000)).toBe(false);
    expect(await lease.pttl()).toBeLessThanOrEqual(300);
    expect(await lease.renew(grant.token, 10_000)).toBe(true);
    expect(await lease.pttl()).toBeGreaterThan(9000);
  });

  it('expires after its ttl, after which another owner acquires with a higher epoch', async () => {
    const first = (await lease.acquire('a', 200))!;
    await waitFor(async () => (await lease.pttl()) === null, {
      what: 'the lease to expire',
      timeoutMs: 2000,
      intervalMs: 20,
    });
    const second = (await lease.acquire('b', 5000))!;
    expect(second.epoch).toBeGreaterThan(first.epoch);
    expect(await lease.renew(first.token, 5000)).toBe(false);
    expect(await lease.release(first.token)).toBe(false);
    expect((await lease.holder())!.owner).toBe('b');
  });

  it('epochs strictly increase across acquisitions', async () => {
    const epochs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const grant = (await lease.acquire(`owner-${i}`, 5000))!;
      epochs.push(grant.epoch);
      expect(await lease.release(grant.token)).toBe(true);
    }
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
  });

  it('release deletes only its own lease and publishes the release', async () => {
    const grant = (await lease.acquire('a', 5000))!;
    const sub = connectTestRedis();
    try {
      await sub.subscribe(keys.leaderReleased);
      const message = new Promise<string>((resolve) => sub.once('message', (_channel, m: string) => resolve(m)));
      expect(await lease.release('a/forged', 'a')).toBe(false);
      expect(await lease.pttl()).not.toBeNull();
      expect(await lease.release(grant.token, 'a')).toBe(true);
      expect(await lease.pttl()).toBeNull();
      expect(await message).toBe('a');
      expect(await lease.holder()).toBeNull();
    } finally {
      sub.disconnect();
    }
  });

  it('works again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    // A private server: flushing the shared one's script cache would disturb other test files.
    const own = await RedisServer.start();
    const client = connectTestRedis(own.url);
    try {
      const ownLease = new Lease(client, keys.leader, keys.leaderEpoch, keys.leaderReleased);
      await client.script('FLUSH');
      const grant = await ownLease.acquire('a', 5000);
      expect(grant).not.toBeNull();
      await client.script('FLUSH');
      expect(await ownLease.renew(grant!.token, 5000)).toBe(true);
    } finally {
      client.disconnect();
      await own.stop();
    }
  });
});
