import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisKeys } from '@cronbundle/redis';

/** Compare-and-set on the waiter key's value (the waiting execution id). KEYS: waiter. ARGV: id, ttl|'' (''=delete). */
const WAITER_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

/**
 * The one waiting place behind a job's run lock (policy `queue`): `P:lock:run:<jobId>:waiting`
 * holds the id of the execution waiting for the lock, with a ttl its waiter keeps extending, so a
 * waiter that died frees the place within the ttl.
 */
@Injectable()
export class RunLockWaiter {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Take the waiting place for `executionId` (true also when it already holds it). */
  async claim(jobId: string, executionId: string, ttlMs: number): Promise<boolean> {
    const key = this.keys.runLockWaiter(jobId);
    const claimed = await this.redis.set(key, executionId, 'PX', ttlMs, 'NX');
    return claimed === 'OK' || (await this.redis.get(key)) === executionId;
  }

  /** Extend the place while still waiting; false when it is no longer ours. */
  async refresh(jobId: string, executionId: string, ttlMs: number): Promise<boolean> {
    const reply = await this.redis.eval(WAITER_LUA, 1, this.keys.runLockWaiter(jobId), executionId, ttlMs);
    return reply === 1;
  }

  /** Leave the place (only if it is ours). */
  async leave(jobId: string, executionId: string): Promise<void> {
    await this.redis.eval(WAITER_LUA, 1, this.keys.runLockWaiter(jobId), executionId, '');
  }
}
