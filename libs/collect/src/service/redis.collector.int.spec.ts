import { RedisServer, connectTestRedis, freePort, testRedisUrl } from '@cronbundle/testing';
import { Redis } from 'ioredis';
import { createDefaultRegistry } from '../default-registry';
import { createReferenceResolver } from '../framework/references';
import { runCollectors } from '../framework/run-collectors';
import { parseSpec } from '../spec/spec-parser';
import { MemorySink } from '../test-helpers';
import { redisVersionFromInfo } from './redis.collector';

async function collect(collectors: Record<string, unknown>[], env: Record<string, string> = {}) {
  const { spec } = parseSpec({ apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { collectors } });
  const sink = new MemorySink();
  const summary = await runCollectors(spec, sink, {
    registry: createDefaultRegistry(),
    resolver: createReferenceResolver({ env }),
    timeoutMs: 15_000,
  });
  return { sink, summary };
}

const allText = (sink: MemorySink) => [...sink.files.keys(), ...sink.files.values()].join('\n');

describe('redis collector (real redis-server)', () => {
  it("reads the run's Redis version into redis/<name>.json and redis/redis.json", async () => {
    const admin = connectTestRedis();
    let expected: string;
    try {
      expected = redisVersionFromInfo(await admin.info('server'))!;
    } finally {
      admin.disconnect();
    }
    expect(expected).toMatch(/^\d+\.\d+\.\d+$/);
    const { sink, summary } = await collect(
      [{ redis: { collectorName: 'queue', uri: testRedisUrl() } }, { redis: { uri: '${env:REDIS_URI}' } }],
      { REDIS_URI: testRedisUrl() },
    );
    expect(summary).toMatchObject({ total: 2, failed: 0, skipped: 0 });
    expect(sink.json('redis/queue.json')).toEqual({ isConnected: true, version: expected });
    expect(sink.json('redis/redis.json')).toEqual({ isConnected: true, version: expected });
  });

  it('records a refused port and a non-redis uri as isConnected: false', async () => {
    const closed = await freePort();
    const { sink, summary } = await collect([
      { redis: { collectorName: 'down', uri: `redis://127.0.0.1:${closed}` } },
      { redis: { collectorName: 'not-redis', uri: 'http://127.0.0.1:6379' } },
    ]);
    expect(summary.failed).toBe(0);
    expect(sink.json('redis/down.json')).toEqual({
      isConnected: false,
      error: expect.stringMatching(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closed}`)),
    });
    expect(sink.json('redis/not-redis.json')).toEqual({
      isConnected: false,
      error: 'uri must start with redis:// or rediss://',
    });
  });

  describe('on a private server with a password', () => {
    let server: RedisServer;
    const password = 'redis-secret-5d1e9c';

    beforeAll(async () => {
      server = await RedisServer.start();
      // A private server: requirepass must never be set on the run's shared Redis.
      const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        await admin.config('SET', 'requirepass', password);
      } finally {
        admin.disconnect();
      }
    }, 30_000);
    afterAll(async () => {
      await server?.stop();
    }, 30_000);

    it('connects with a ${env:} password and refuses a wrong one, never writing either', async () => {
      const wrong = 'wrong-redis-pass-0a77';
      const { sink, summary } = await collect(
        [
          { redis: { collectorName: 'good', uri: `redis://:\${env:REDIS_PW}@127.0.0.1:${server.port}` } },
          { redis: { collectorName: 'bad-login', uri: `redis://default:\${env:WRONG}@127.0.0.1:${server.port}` } },
          { redis: { collectorName: 'no-login', uri: server.url } },
        ],
        { REDIS_PW: password, WRONG: wrong },
      );
      expect(summary.failed).toBe(0);
      expect(sink.json('redis/good.json')).toEqual({ isConnected: true, version: expect.stringMatching(/^\d+\./) });
      expect(sink.json('redis/bad-login.json')).toEqual({
        isConnected: false,
        error: expect.stringMatching(/WRONGPASS/),
      });
      expect(sink.json('redis/no-login.json')).toEqual({
        isConnected: false,
        error: expect.stringMatching(/NOAUTH/),
      });
      const text = allText(sink);
      expect(text).not.toContain(password);
      expect(text).not.toContain(wrong);
    });
  });
});
