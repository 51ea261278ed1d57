import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { Redis } from 'ioredis';

/** URL of the redis-server that jest's global setup started for this run. */
export function testRedisUrl(): string {
  const url = process.env.CRONBUNDLE_TEST_REDIS_URL;
  if (!url) {
    throw new Error(
      "CRONBUNDLE_TEST_REDIS_URL is not set: run this test through jest's integration or e2e project (npm test)",
    );
  }
  return url;
}

/**
 * A key prefix unique to one test file (and call), so test files sharing the run's Redis never
 * see each other's keys or queues. Safe as a CRONBUNDLE_PREFIX.
 */
export function testPrefix(label = expect.getState().testPath ?? 'test'): string {
  const name = basename(label)
    .replace(/\.(int|e2e)?\.?spec\.ts$/, '')
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, 32);
  return `t-${name}-${randomBytes(4).toString('hex')}`;
}

/** A plain ioredis client on the run's Redis; close it in afterAll. */
export function connectTestRedis(url = testRedisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Delete every key under a prefix (SCAN, not KEYS, so it is safe on a shared server). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
