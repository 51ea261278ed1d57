import type { Redis } from 'ioredis';
import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix, waitFor } from '@cronbundle/testing';
import { StaleEpochError } from './coordination.errors';
import { FencedWriter } from './fenced-writer';
import { Lease } from './lease';

describe('FencedWriter against a real redis-server', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let lease: Lease;
  let writer: FencedWriter;
  const key = (name: string) => `${keys.prefix}:${name}`;

  beforeAll(() => {
    redis = connectTestRedis();
  });
  beforeEach(() => {
    keys = new RedisKeys(testPrefix());
    lease = new Lease(redis, keys.leader, keys.leaderEpoch);
    writer = new FencedWriter(redis, keys);
  });
  afterEach(async () => {
    await deletePrefix(redis, keys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('writes while the fence is current', async () => {
    const fence = (await lease.acquire('a', 5000))!;
    await writer.setFenced(fence, key('slot'), '2026-11-22T02:00:00Z');
    await writer.setFenced(fence, key('tmp'), 'x', { pxMs: 5000 });
    expect(await writer.hsetFenced(fence, key('h'), { lastSlot: '2026-11-22T02:00:00Z', count: 3 })).toBe(2);
    expect(await writer.zaddFenced(fence, key('z'), 42, 'daily')).toBe(1);
    expect(await redis.get(key('slot'))).toBe('2026-11-22T02:00:00Z');
    expect(await redis.pttl(key('tmp'))).toBeGreaterThan(4000);
    expect(await redis.hgetall(key('h'))).toEqual({ lastSlot: '2026-11-22T02:00:00Z', count: '3' });
    expect(await redis.zscore(key('z'), 'daily')).toBe('42');
  });

  it('runs a caller script that sees its own KEYS and ARGV from 1', async () => {
    const fence = (await lease.acquire('a', 5000))!;
    const script = `redis.call('SET', KEYS[2], ARGV[2]) return redis.call('INCRBY', KEYS[1], ARGV[1])`;
    expect(await writer.evalFenced(fence, script, [key('n'), key('s')], [5, 'hello'])).toBe(5);
    expect(await writer.evalFenced(fence, script, [key('n'), key('s')], [2, 'again'])).toBe(7);
    expect(await redis.get(key('s'))).toBe('again');
  });

  it('refuses every write after the lease expired and another instance took over', async () => {
    const old = (await lease.acquire('a', 200))!;
    await writer.setFenced(old, key('slot'), 'from-a');
    await waitFor(async () => (await lease.pttl()) === null, {
      what: 'the lease to expire',
      timeoutMs: 2000,
      intervalMs: 20,
    });
    const current = (await lease.acquire('b', 5000))!;
    await writer.setFenced(current, key('slot'), 'from-b');

    await expect(writer.setFenced(old, key('slot'), 'from-a-again')).rejects.toBeInstanceOf(StaleEpochError);
    await expect(writer.hsetFenced(old, key('h'), { f: 'v' })).rejects.toBeInstanceOf(StaleEpochError);
    await expect(writer.zaddFenced(old, key('z'), 1, 'm')).rejects.toBeInstanceOf(StaleEpochError);
    await expect(writer.evalFenced(old, `return redis.call('SET', KEYS[1], 'x')`, [key('e')], [])).rejects.toThrow(
      `stale leader epoch ${old.epoch}`,
    );
    expect(await redis.get(key('slot'))).toBe('from-b');
    expect(await redis.exists(key('h'), key('z'), key('e'))).toBe(0);
  });

  it('refuses a write once the lease was released, though no newer epoch exists yet', async () => {
    const fence = (await lease.acquire('a', 5000))!;
    await lease.release(fence.token);
    await expect(writer.setFenced(fence, key('slot'), 'late')).rejects.toBeInstanceOf(StaleEpochError);
    expect(await redis.exists(key('slot'))).toBe(0);
  });

  it('refuses a fence whose epoch is not the current one, even with the current token', async () => {
    const fence = (await lease.acquire('a', 5000))!;
    await expect(
      writer.setFenced({ token: fence.token, epoch: fence.epoch - 1 }, key('slot'), 'x'),
    ).rejects.toBeInstanceOf(StaleEpochError);
    expect(await redis.exists(key('slot'))).toBe(0);
  });

  it('passes other script errors through unchanged', async () => {
    const fence = (await lease.acquire('a', 5000))!;
    const failure = writer.evalFenced(fence, `return redis.error_reply('BOOM custom')`, [], []);
    await expect(failure).rejects.toThrow('BOOM custom');
    await expect(failure).rejects.not.toBeInstanceOf(StaleEpochError);
  });
});
