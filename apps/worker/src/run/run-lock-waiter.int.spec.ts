import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix, waitFor } from '@cronbundle/testing';
import { RunLockWaiter } from './run-lock-waiter';

describe('RunLockWaiter against a real redis-server', () => {
  const redis = connectTestRedis();
  const keys = new RedisKeys(testPrefix());
  const waiter = new RunLockWaiter(redis, keys);

  afterAll(async () => {
    await deletePrefix(redis, keys.prefix);
    redis.disconnect();
  });

  it('one execution holds the waiting place; only it can refresh or leave it', async () => {
    expect(await waiter.claim('j', 'E1', 5000)).toBe(true);
    expect(await waiter.claim('j', 'E1', 5000)).toBe(true);
    expect(await waiter.claim('j', 'E2', 5000)).toBe(false);
    expect(await waiter.refresh('j', 'E2', 5000)).toBe(false);
    await waiter.leave('j', 'E2');
    expect(await redis.get(keys.runLockWaiter('j'))).toBe('E1');

    await redis.pexpire(keys.runLockWaiter('j'), 100);
    expect(await waiter.refresh('j', 'E1', 60_000)).toBe(true);
    expect(await redis.pttl(keys.runLockWaiter('j'))).toBeGreaterThan(50_000);
    await waiter.leave('j', 'E1');
    expect(await redis.exists(keys.runLockWaiter('j'))).toBe(0);
    expect(await waiter.claim('j', 'E2', 5000)).toBe(true);
  });

  it('a waiter that stops refreshing frees the place within its ttl', async () => {
    expect(await waiter.claim('k', 'E1', 100)).toBe(true);
    expect(await waiter.claim('k', 'E2', 100)).toBe(false);
    await waitFor(async () => (await redis.exists(keys.runLockWaiter('k'))) === 0, {
      timeoutMs: 2000,
      what: 'the abandoned waiting place to expire',
    });
    expect(await waiter.claim('k', 'E2', 100)).toBe(true);
  });
});
