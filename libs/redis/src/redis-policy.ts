import type { Redis } from 'ioredis';

export interface RedisPolicyReport {
  maxmemoryPolicy: string | undefined;
  appendonly: string | undefined;
  warnings: string[];
}

/**
 * ARCHITECTURE.md §7: Redis must not evict keys (an evicted lock or job is a lost run) and should
 * persist with AOF. Managed Redis often forbids CONFIG GET; then INFO is used, and failing that
 * the check says it could not tell.
 */
export async function inspectRedisPolicy(client: Redis): Promise<RedisPolicyReport> {
  const warnings: string[] = [];
  let policy: string | undefined;
  let aof: string | undefined;
  try {
    const info = await client.info('memory');
    policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
    const persistence = await client.info('persistence');
    const enabled = /aof_enabled:(\d)/.exec(persistence)?.[1];
    aof = enabled === undefined ? undefined : enabled === '1' ? 'yes' : 'no';
  } catch (err) {
    warnings.push(
      `could not read Redis settings (${(err as Error).message}); make sure maxmemory-policy is noeviction`,
    );
    return { maxmemoryPolicy: policy, appendonly: aof, warnings };
  }
  if (policy !== 'noeviction') {
    warnings.push(
      `Redis maxmemory-policy is ${policy ?? 'unknown'}, not noeviction: under memory pressure Redis may evict locks, jobs and records`,
    );
  }
  if (aof === 'no') {
    warnings.push('Redis AOF is off: a Redis restart loses definitions and executions written since the last snapshot');
  }
  return { maxmemoryPolicy: policy, appendonly: aof, warnings };
}
