import type { RedisServerProcess as RedisServer } from '../../libs/redis/src/redis-server.process';

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { __cronbundleRedis?: RedisServer };
  await holder.__cronbundleRedis?.stop();
  holder.__cronbundleRedis = undefined;
  delete process.env.CRONBUNDLE_TEST_REDIS_URL;
}
