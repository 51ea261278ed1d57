import type { Redis } from 'ioredis';
import { RedisKeys } from '@cronbundle/redis';
import { performance } from 'node:perf_hooks';
import { RedisServer, connectTestRedis, deletePrefix, testPrefix, waitFor, withDeadline } from '@cronbundle/testing';
import { RunLock, RunLockLostReason } from './run-lock';

describe('RunLock against a real redis-server', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let locks: RunLock;

  beforeAll(() => {
    redis = connectTestRedis();
  });
  beforeEach(() => {
    keys = new RedisKeys(testPrefix());
    locks = new RunLock(redis, keys, 'worker-1:99');
  });
  afterEach(async () => {
    await deletePrefix(redis, keys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('one execution holds the job lock; inspect shows it for the 409 body', async () => {
    const before = Date.now();
    const lock = await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 5000 });
    expect(lock).toMatchObject({ jobId: 'daily', executionId: 'exec-1', ttlMs: 5000 });
    expect(await locks.acquire({ jobId: 'daily', executionId: 'exec-2', ttlMs: 5000 })).toBeNull();
    expect(await locks.acquire({ jobId: 'other', executionId: 'exec-3', ttlMs: 5000 })).not.toBeNull();

    const info = await locks.inspect('daily');
    expect(info).toEqual({
      runningExecutionId: 'exec-1',
      startedAt: lock!.startedAt,
      lockExpiresAt: expect.any(String),
    });
    const expiresAt = Date.parse(info!.lockExpiresAt);
    expect(expiresAt).toBeGreaterThan(before + 4000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 5000);
    expect(await redis.exists(keys.runLock('daily'))).toBe(1);
    expect(await locks.inspect('free-job')).toBeNull();
  });

  it('extends and releases only its own lock', async () => {
    const lock = (await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 300 }))!;
    const forged = { ...lock, token: 'someone-else' };
    expect(await locks.extend(forged, 10_000)).toBe(false);
    expect(await redis.pttl(keys.runLock('daily'))).toBeLessThanOrEqual(300);
    expect(await locks.extend(lock, 10_000)).toBe(true);
    expect(await redis.pttl(keys.runLock('daily'))).toBeGreaterThan(9000);
    expect(await locks.release(forged)).toBe(false);
    expect(await locks.inspect('daily')).not.toBeNull();
    expect(await locks.release(lock)).toBe(true);
    expect(await locks.inspect('daily')).toBeNull();
    expect(await locks.release(lock)).toBe(false);
  });

  it("a crashed holder's lock expires within its ttl and cannot be extended afterwards", async () => {
    const lock = (await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 200 }))!;
    await waitFor(async () => (await locks.inspect('daily')) === null, {
      what: 'the lock to expire',
      timeoutMs: 2000,
      intervalMs: 20,
    });
    const next = await locks.acquire({ jobId: 'daily', executionId: 'exec-2', ttlMs: 5000 });
    expect(next).not.toBeNull();
    expect(await locks.extend(lock)).toBe(false);
    expect((await locks.inspect('daily'))!.runningExecutionId).toBe('exec-2');
  });

  it('keepAlive keeps a short lock alive well past its ttl', async () => {
    const lock = (await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 200 }))!;
    const onLost = jest.fn();
    const keepAlive = locks.keepAlive(lock, { onLost });
    try {
      const seen: boolean[] = [];
      await waitFor(
        async () => {
          seen.push((await locks.inspect('daily'))?.runningExecutionId === 'exec-1');
          return seen.length >= 12;
        },
        { what: '600 ms of a kept-alive lock', intervalMs: 50 },
      );
      expect(seen.every(Boolean)).toBe(true);
      expect(onLost).not.toHaveBeenCalled();
      expect(keepAlive.signal.aborted).toBe(false);
    } finally {
      keepAlive.stop();
    }
    await locks.release(lock);
  });

  it('a redelivery (same execution and delivery) takes the lock over at once; the dead attempt is fenced out', async () => {
    // Another worker's instance: its attempt was SIGKILLed and its lock is still live for 60 s.
    const dead = new RunLock(redis, keys, 'worker-a:1');
    const old = (await dead.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 60_000, deliveryId: 'manual:1' }))!;
    expect(old.takenOver).toBeUndefined();

    const lock = await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 5000, deliveryId: 'manual:1' });
    expect(lock).toMatchObject({ jobId: 'daily', executionId: 'exec-1', deliveryId: 'manual:1', takenOver: true });
    expect(lock!.token).not.toBe(old.token);
    // The new attempt's ttl, not what was left of the old one's.
    expect(await redis.pttl(keys.runLock('daily'))).toBeLessThanOrEqual(5000);
    expect(await locks.inspect('daily')).toEqual({
      runningExecutionId: 'exec-1',
      startedAt: lock!.startedAt,
      lockExpiresAt: expect.any(String),
    });

    // The dead attempt's late writes are refused and leave the new holder's lock as it is.
    expect(await dead.extend(old, 60_000)).toBe(false);
    expect(await dead.release(old)).toBe(false);
    expect(await redis.pttl(keys.runLock('daily'))).toBeLessThanOrEqual(5000);
    expect(JSON.parse((await redis.get(keys.runLock('daily')))!)).toMatchObject({ token: lock!.token });
    // The new holder's own extend and release work.
    expect(await locks.extend(lock!, 10_000)).toBe(true);
    expect(await locks.release(lock!)).toBe(true);
    expect(await locks.inspect('daily')).toBeNull();
  });

  it('keepAlive of a taken-over attempt (alive after all) reports the lock lost and aborts', async () => {
    const stalled = new RunLock(redis, keys, 'worker-a:1');
    const old = (await stalled.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 600, deliveryId: 'd1' }))!;
    let resolveLost!: (reason: RunLockLostReason) => void;
    const lost = new Promise<RunLockLostReason>((resolve) => (resolveLost = resolve));
    const keepAlive = stalled.keepAlive(old, { intervalMs: 50, onLost: resolveLost });
    const lock = (await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 5000, deliveryId: 'd1' }))!;
    expect(lock.takenOver).toBe(true);
    expect(await withDeadline(lost, 2000, 'onLost')).toBe('lost');
    expect(keepAlive.signal.aborted).toBe(true);
    expect(JSON.parse((await redis.get(keys.runLock('daily')))!)).toMatchObject({ token: lock.token });
    await locks.release(lock);
  });

  it('no takeover for another execution, another delivery, or an acquire without a delivery id', async () => {
    const held = (await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 5000, deliveryId: 'd1' }))!;
    const other = new RunLock(redis, keys, 'worker-b:2');
    expect(await other.acquire({ jobId: 'daily', executionId: 'exec-2', ttlMs: 5000, deliveryId: 'd1' })).toBeNull();
    expect(await other.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 5000, deliveryId: 'd2' })).toBeNull();
    expect(await other.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 5000 })).toBeNull();
    // A lock taken without a delivery id is never taken over.
    const plain = (await locks.acquire({ jobId: 'weekly', executionId: 'exec-3', ttlMs: 5000 }))!;
    expect(await other.acquire({ jobId: 'weekly', executionId: 'exec-3', ttlMs: 5000, deliveryId: 'd3' })).toBeNull();
    // Corrupt or foreign values are never taken over either.
    await redis.set(keys.runLock('monthly'), 'not json', 'PX', 5000);
    expect(await other.acquire({ jobId: 'monthly', executionId: 'exec-4', ttlMs: 5000, deliveryId: 'd4' })).toBeNull();
    expect(JSON.parse((await redis.get(keys.runLock('daily')))!)).toMatchObject({ token: held.token });
    expect(JSON.parse((await redis.get(keys.runLock('weekly')))!)).toMatchObject({ token: plain.token });
    expect(await redis.get(keys.runLock('monthly'))).toBe('not json');
  });

  it('keepAlive aborts the run and calls onLost when the lock was stolen', async () => {
    const lock = (await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 600 }))!;
    let resolveLost!: (reason: RunLockLostReason) => void;
    const lost = new Promise<RunLockLostReason>((resolve) => (resolveLost = resolve));
    const keepAlive = locks.keepAlive(lock, { intervalMs: 50, onLost: resolveLost });
    await redis.set(
      keys.runLock('daily'),
      JSON.stringify({ token: 'thief', executionId: 'exec-2', startedAt: new Date().toISOString() }),
      'PX',
      5000,
    );
    expect(await withDeadline(lost, 2000, 'onLost')).toBe('lost');
    expect(keepAlive.signal.aborted).toBe(true);
    expect(keepAlive.signal.reason).toBe('lost');
    // The thief's lock is untouched.
    expect((await locks.inspect('daily'))!.runningExecutionId).toBe('exec-2');
  });
});

describe('RunLock keepAlive when Redis stops answering (CLIENT PAUSE on a private server)', () => {
  let server: RedisServer;
  let redis: Redis;
  let admin: Redis;

  beforeAll(async () => {
    // Private: pausing the shared server would stall every other test file.
    server = await RedisServer.start();
    redis = connectTestRedis(server.url);
    admin = connectTestRedis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    admin.disconnect();
    await server.stop();
  });

  it('aborts with "expired" once no extend could have kept the lock, while extends hang', async () => {
    const keys = new RedisKeys(testPrefix());
    const locks = new RunLock(redis, keys);
    const lock = (await locks.acquire({ jobId: 'daily', executionId: 'exec-1', ttlMs: 400 }))!;
    const startedAt = performance.now();
    let resolveLost!: (reason: RunLockLostReason) => void;
    const lost = new Promise<RunLockLostReason>((resolve) => (resolveLost = resolve));
    const keepAlive = locks.keepAlive(lock, { onLost: resolveLost });
    await admin.client('PAUSE', 1500, 'ALL');
    expect(await withDeadline(lost, 3000, 'onLost')).toBe('expired');
    // Not before the lock's ttl could have run out (one ttl from the last confirmed extend).
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(400 * 0.9);
    expect(keepAlive.signal.aborted).toBe(true);
  });
});
