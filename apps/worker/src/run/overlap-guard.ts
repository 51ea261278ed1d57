import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { HeldRunLock, RunLock } from '@cronbundle/coordination';
import type { OverlapPolicy } from '@cronbundle/core';
import { ExecutionStore } from '@cronbundle/executions';
import { REDIS, RedisKeys } from '@cronbundle/redis';

export type OverlapDecision =
  /** Policy `allow`: no lock is taken. */
  | { kind: 'free' }
  | { kind: 'locked'; lock: HeldRunLock }
  | { kind: 'skip'; reason: string; runningExecutionId?: string };

const POLL_MS = 200;

/** Compare-and-set on the waiter key's value (the waiting execution id). KEYS: waiter. ARGV: id, ttl|'' (''=delete). */
const WAITER_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

/**
 * Overlap policies on the job's run lock (ARCHITECTURE.md §8): `skip` gives up when another run
 * holds it; `queue` lets one run wait for it (a second waiter is skipped); `cancel-previous` asks
 * the holder to cancel and waits for the lock; `allow` takes no lock. A redelivered run finding
 * its own execution's lock (its previous worker died) waits for it to expire: at most RUN_LOCK_MS.
 */
@Injectable()
export class OverlapGuard {
  constructor(
    private readonly runLock: RunLock,
    private readonly store: ExecutionStore,
    private readonly keys: RedisKeys,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get lockTtlMs(): number {
    return this.config.worker.runLockMs;
  }

  async acquire(
    jobId: string,
    policy: OverlapPolicy,
    executionId: string,
    signal: AbortSignal,
  ): Promise<OverlapDecision> {
    if (policy === 'allow') return { kind: 'free' };
    const first = await this.tryAcquire(jobId, executionId);
    if (first) return { kind: 'locked', lock: first };
    const holder = await this.runLock.inspect(jobId);
    if (holder?.runningExecutionId === executionId) {
      return { kind: 'locked', lock: await this.waitFor(jobId, executionId, signal) };
    }
    if (policy === 'skip') {
      return holder
        ? { kind: 'skip', reason: 'overlap', runningExecutionId: holder.runningExecutionId }
        : this.acquire(jobId, policy, executionId, signal);
    }
    if (policy === 'cancel-previous') {
      if (holder)
        await this.store.requestCancel(
          holder.runningExecutionId,
          `cancelled by execution ${executionId} (overlap policy cancel-previous)`,
        );
      return { kind: 'locked', lock: await this.waitFor(jobId, executionId, signal) };
    }
    // queue: at most one run waits behind the running one.
    const waiter = this.keys.runLockWaiter(jobId);
    const claimed = await this.redis.set(waiter, executionId, 'PX', this.lockTtlMs, 'NX');
    if (claimed !== 'OK' && (await this.redis.get(waiter)) !== executionId) {
      return {
        kind: 'skip',
        reason: 'overlap: another run is already queued',
        runningExecutionId: holder?.runningExecutionId,
      };
    }
    try {
      return { kind: 'locked', lock: await this.waitFor(jobId, executionId, signal, waiter) };
    } finally {
      await this.redis.eval(WAITER_LUA, 1, waiter, executionId, '').catch(() => undefined);
    }
  }

  release(lock: HeldRunLock): Promise<boolean> {
    return this.runLock.release(lock);
  }

  private tryAcquire(jobId: string, executionId: string): Promise<HeldRunLock | null> {
    return this.runLock.acquire({ jobId, executionId, ttlMs: this.lockTtlMs });
  }

  /** Poll for the lock until it is ours or the signal fires (cancel, shutdown). */
  private async waitFor(
    jobId: string,
    executionId: string,
    signal: AbortSignal,
    waiter?: string,
  ): Promise<HeldRunLock> {
    for (;;) {
      signal.throwIfAborted();
      const lock = await this.tryAcquire(jobId, executionId);
      if (lock) return lock;
      if (waiter) await this.redis.eval(WAITER_LUA, 1, waiter, executionId, this.lockTtlMs);
      await sleep(POLL_MS, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
