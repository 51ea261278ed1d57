import request from 'supertest';
import { RedisServer, waitFor } from '@cronbundle/testing';
import { jobBody, startTestApi, TestApi } from '../test-support/api-test-app';

describe('api while Redis is down (in process, private real redis-server)', () => {
  let redis: RedisServer;
  let api: TestApi;

  const stderr: string[] = [];
  let restoreConsole: () => void;

  beforeAll(async () => {
    const original = console.error;
    console.error = (...args: unknown[]) => void stderr.push(args.map(String).join(' '));
    restoreConsole = () => (console.error = original);
    redis = await RedisServer.start({ appendonly: true });
    api = await startTestApi({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    restoreConsole();
    await api?.close();
    await redis?.stop();
  });

  it('answers 503 with Retry-After (never 500) while Redis is down, and serves again once it is back', async () => {
    await request(api.server).post('/api/v1/jobs').send(jobBody('before-outage')).expect(201);
    await redis.stop({ keepDir: true });

    for (const [method, path] of [
      ['get', '/api/v1/jobs'],
      ['get', '/api/v1/jobs/before-outage'],
      ['post', '/api/v1/jobs/before-outage/trigger'],
    ] as const) {
      const res = await request(api.server)[method](path);
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 503,
        body: { error: 'unavailable', message: 'Redis is unavailable; retry shortly' },
      });
      expect(res.headers['retry-after']).toBe('1');
    }
    expect(api.logs.join('')).toContain('Redis unavailable; answered 503');
    expect(api.logs.join('')).not.toContain('unhandled error');
    expect(stderr.join('')).not.toContain('ECONNREFUSED'); // BullMQ prints to stderr when no one listens

    await redis.restart();
    const back = await waitFor(
      async () => {
        const res = await request(api.server).get('/api/v1/jobs/before-outage');
        return res.status === 200 ? res : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the api to serve again after Redis came back' },
    );
    expect(back.body.id).toBe('before-outage');
  });
});
