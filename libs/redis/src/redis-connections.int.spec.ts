import { RedisServer, testPrefix, waitFor } from '@cronbundle/testing';
import { inspectRedisPolicy } from './redis-policy';
import { RedisConnections } from './redis-connections';
import { RedisKeys } from './redis-keys';

describe('RedisConnections against a real redis-server', () => {
  let server: RedisServer;
  let connections: RedisConnections;

  beforeAll(async () => {
    server = await RedisServer.start();
    connections = new RedisConnections({ url: server.url, name: 'cronbundle-test' });
  });
  afterAll(async () => {
    await connections.closeAll();
    await server.stop();
  });

  it('names connections so CLIENT LIST shows who is who', async () => {
    const client = connections.create('command', 'store');
    await client.ping();
    const list = await client.client('LIST');
    expect(String(list)).toContain('name=cronbundle-test:store');
  });

  it('a probe connection fails fast while Redis is down and recovers when it is back', async () => {
    const probe = connections.create('probe');
    await waitFor(() => probe.status === 'ready', { what: 'probe to connect' });
    await expect(probe.ping()).resolves.toBe('PONG');
    await server.stop({ keepDir: true });
    await waitFor(() => probe.status !== 'ready', { what: 'probe to notice the disconnect' });
    const started = Date.now();
    await expect(probe.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(500);
    await server.restart();
    await waitFor(async () => (await probe.ping().catch(() => undefined)) === 'PONG', {
      what: 'probe to reconnect',
      timeoutMs: 10_000,
    });
  });

  it('reports a risky eviction policy and AOF off', async () => {
    const client = connections.create('command');
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const risky = await inspectRedisPolicy(client);
    expect(risky.maxmemoryPolicy).toBe('allkeys-lru');
    expect(risky.warnings.join('\n')).toMatch(/not noeviction/);
    expect(risky.warnings.join('\n')).toMatch(/AOF is off/);
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    await client.config('SET', 'appendonly', 'yes');
    expect((await inspectRedisPolicy(client)).warnings).toEqual([]);
  });

  it('closeAll closes every connection it made', async () => {
    const own = new RedisConnections({ url: server.url, name: 'closing' });
    const a = own.create('command');
    const b = own.create('bullmq');
    await Promise.all([a.ping(), b.ping()]);
    await own.closeAll();
    expect(a.status).toBe('end');
    expect(b.status).toBe('end');
  });

  it('closeAll with Redis unreachable returns at once and stops the reconnect loop', async () => {
    const down = await RedisServer.start();
    const own = new RedisConnections({ url: down.url, name: 'closing-down' });
    const a = own.create('command');
    await a.ping();
    await down.stop();
    await waitFor(() => a.status === 'reconnecting', { what: 'the client to start reconnecting' });
    const started = Date.now();
    await own.closeAll();
    expect(Date.now() - started).toBeLessThan(500); // no round trip can happen; it used to wait its 1 s bound
    // ioredis emits nothing for this case (its status stays 'reconnecting'); its pending retry is gone.
    expect((a as unknown as { reconnectTimeout: unknown }).reconnectTimeout).toBeNull();
  });

  it('keys live under the prefix', () => {
    const prefix = testPrefix();
    const keys = new RedisKeys(prefix);
    expect(keys.job('daily')).toBe(`${prefix}:job:daily`);
    expect(keys.jobExecs('daily')).toBe(`${prefix}:job:daily:execs`);
    expect(keys.runLock('daily')).toBe(`${prefix}:lock:run:daily`);
    expect(keys.leaderEpoch).toBe(`${prefix}:leader:epoch`);
  });
});
