import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

const shas = new Map<string, string>();

/**
 * EVALSHA with a fallback to EVAL when the server does not know the script yet (first use, or
 * after a restart or SCRIPT FLUSH). Keeps a shared client untouched (no defineCommand). Every
 * lib's Lua goes through this one runner.
 */
export async function runScript<T = unknown>(
  redis: Redis,
  source: string,
  keys: string[],
  args: (string | number)[],
): Promise<T> {
  let sha = shas.get(source);
  if (!sha) {
    sha = createHash('sha1').update(source).digest('hex');
    shas.set(source, sha);
  }
  try {
    return (await redis.evalsha(sha, keys.length, ...keys, ...args)) as T;
  } catch (err) {
    if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
    return (await redis.eval(source, keys.length, ...keys, ...args)) as T;
  }
}
