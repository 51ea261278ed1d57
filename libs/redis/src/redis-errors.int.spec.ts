import { Redis } from 'ioredis';
import { isRedisUnavailable } from './redis-errors';
import { RedisServerProcess } from './redis-server.process';

const settle = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('isRedisUnavailable (real redis-server)', () => {
  let server: RedisServerProcess;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is false for answers from Redis, true for what ioredis throws while Redis is down', async () => {
    const app = new Redis(server.url, { maxRetriesPerRequest: 2, retryStrategy: () => 50 });
    const probe = new Redis(server.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    app.on('error', () => undefined);
    probe.on('error', () => undefined);
    try {
      await app.set('k', 'v');
      const wrongType = await settle(app.lpush('k', 'x'));
      expect(wrongType).toBeInstanceOf(Error);
      expect(isRedisUnavailable(wrongType)).toBe(false);
      expect(isRedisUnavailable(await settle(app.eval('return redis.error_reply("refused")', 0)))).toBe(false);
      expect(isRedisUnavailable(new Error('something else'))).toBe(false);
      expect(isRedisUnavailable('ECONNREFUSED')).toBe(false);

      await server.stop({ keepDir: true });
      const fromApp = await settle(app.get('k'));
      const fromProbe = await settle(probe.get('k'));
      expect(fromApp).toBeInstanceOf(Error);
      expect(isRedisUnavailable(fromApp)).toBe(true);
      expect(fromProbe).toBeInstanceOf(Error);
      expect(isRedisUnavailable(fromProbe)).toBe(true);
    } finally {
      app.disconnect();
      probe.disconnect();
    }
  });
});
