import { Redis, type RedisOptions } from 'ioredis';
import type { DatabaseSpec } from '../spec/collector-schemas';
import {
  CONNECT_TIMEOUT_MS,
  aborted,
  databaseCollector,
  errorMessage,
  tlsOptions,
  type DatabaseResult,
} from './database-common';

/**
 * troubleshoot's `redis` collector: connect with `uri` (`redis://` or `rediss://`), read
 * `redis_version` from `INFO server`, write `redis/<collectorName|redis>.json` =
 * `{isConnected, error?, version?}`. A refused connection or a failed login is a result
 * (`isConnected: false`), not a collector error.
 */
export const redisCollector = databaseCollector('redis', probeRedis);

/** `redis_version:7.0.15` out of an `INFO server` reply. */
export function redisVersionFromInfo(info: string): string | undefined {
  return /^redis_version:(\S+)/m.exec(info)?.[1];
}

export async function probeRedis(spec: DatabaseSpec, timeoutMs: number, signal: AbortSignal): Promise<DatabaseResult> {
  let client: Redis;
  try {
    if (!/^rediss?:\/\//i.test(spec.uri)) throw new Error('uri must start with redis:// or rediss://');
    const tls = tlsOptions(spec.tls);
    const secure = /^rediss:/i.test(spec.uri);
    const options: RedisOptions = {
      lazyConnect: true,
      connectTimeout: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
      commandTimeout: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
      // One attempt: an unreachable server is the answer, not something to wait out.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      connectionName: 'cronbundle',
      ...(secure || tls ? { tls: tls ?? {} } : {}),
    };
    client = new Redis(spec.uri, options);
  } catch (err) {
    return { isConnected: false, error: errorMessage(err) };
  }
  // ioredis reports the cause (ECONNREFUSED, WRONGPASS) as an 'error' event; the awaited call then
  // fails with a generic "Connection is closed.", so the first event is the message worth keeping.
  let cause: unknown;
  client.on('error', (err) => {
    cause ??= err;
  });
  const stop = aborted(signal);
  stop.catch(() => undefined);
  try {
    await Promise.race([client.connect(), stop]);
    const info = await Promise.race([client.info('server'), stop]);
    const version = redisVersionFromInfo(info);
    return { isConnected: true, ...(version ? { version } : {}) };
  } catch (err) {
    if (signal.aborted) throw err;
    return { isConnected: false, error: errorMessage(cause ?? err) };
  } finally {
    // disconnect() on an ended client arms a 2 s timer that would hold the process open.
    if (client.status !== 'end') client.disconnect();
  }
}
