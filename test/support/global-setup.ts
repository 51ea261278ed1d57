import { RedisServerProcess as RedisServer } from '../../libs/redis/src/redis-server.process';

/** One private redis-server for the whole jest run; tests isolate themselves with key prefixes. */
export default async function globalSetup(): Promise<void> {
  if (process.env.CRONBUNDLE_TEST_REDIS_URL) return; // already started by another project's setup
  const server = await RedisServer.start();
  (globalThis as { __cronbundleRedis?: RedisServer }).__cronbundleRedis = server;
  // Jest workers are forked after global setup, so they inherit this.
  process.env.CRONBUNDLE_TEST_REDIS_URL = server.url;
}
