import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { RunLock, type HeldRunLock } from '@cronbundle/coordination';
import type { OverlapPolicy } from '@cronbundle/core';
import { ExecutionStore } from '@cronbundle/executions';
import { RunLockWaiter } from './run-lock-waiter';

export type OverlapDecision =
  /** Policy `allow`: no lock is taken. */
  | { kind: 'free' }
  | { kind: 'locked'; lock: HeldRunLock }
  | { kind: 'skip'; reason: string; runningExecutionId?: string };

const POLL_MS = 200;

/**
 * Overlap policies on the job's run lock (ARCHITECTURE.md §8): `skip` gives up when another run
 * holds it; `queue` lets one run wait for it (a second waiter is skipped); `cancel-previous` asks
 * the holder to cancel and waits for the lock; `allow` takes no lock. A redelivered run finding
 * the lock its own execution took under the same delivery (BullMQ job id) — its previous worker
 * was declared dead by BullMQ's stalled check — takes it over at once with a new token (RunLock),
 * whatever the policy. Its own execution under another delivery waits for the lock instead.
 */
@Injectable()
export class OverlapGuard {
  constructor(
    private readonly runLock: RunLock,
    private readonly store: ExecutionStore,
    private readonly waiter: RunLockWaiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get lockTtlMs(): number {
    return this.config.worker.runLockMs;
  }

  /** `deliveryId`: the BullMQ job id of this delivery; without it no takeover happens. */
  async acquire(
    jobId: string,
    policy: OverlapPolicy,
    executionId: string,
    signal: AbortSignal,
    deliveryId?: string,
  ): Promise<OverlapDecision> {
    if (policy === 'allow') return { kind: 'free' };
    const first = await this.tryAcquire(jobId, executionId, deliveryId);
    if (first) return { kind: 'locked', lock: first };
    const holder = await this.runLock.inspect(jobId);
    if (holder?.runningExecutionId === executionId) {
      return { kind: 'locked', lock: await this.waitFor(jobId, executionId, signal, false, deliveryId) };
    }
    if (policy === 'skip') {
      return holder
        ? { kind: 'skip', reason: 'overlap', runningExecutionId: holder.runningExecutionId }
        : this.acquire(jobId, policy, executionId, signal, deliveryId);
    }
    if (policy === 'cancel-previous') {
      if (holder)
        await this.store.requestCancel(
          holder.runningExecutionId,
          `cancelled by execution ${executionId} (overlap policy cancel-previous)`,
        );
      return { kind: 'locked', lock: await this.waitFor(jobId, executionId, signal, false, deliveryId) };
    }
    // queue: at most one run waits behind the running one.
    if (!(await this.waiter.claim(jobId, executionId, this.lockTtlMs))) {
      return {
        kind: 'skip',
        reason: 'overlap: another run is already queued',
        runningExecutionId: holder?.runningExecutionId,
      };
    }
    try {
      return { kind: 'locked', lock: await this.waitFor(jobId, executionId, signal, true, deliveryId) };
    } finally {
      await this.waiter.leave(jobId, executionId).catch(() => undefined);
    }
  }

  release(lock: HeldRunLock): Promise<boolean> {
    return this.runLock.release(lock);
  }

  private tryAcquire(jobId: string, executionId: string, deliveryId: string | undefined): Promise<HeldRunLock | null> {
    return this.runLock.acquire({ jobId, executionId, ttlMs: this.lockTtlMs, ...(deliveryId ? { deliveryId } : {}) });
  }

  /** Poll for the lock until it is ours or the signal fires (cancel, shutdown). */
  private async waitFor(
    jobId: string,
    executionId: string,
    signal: AbortSignal,
    queued: boolean,
    deliveryId: string | undefined,
  ): Promise<HeldRunLock> {
    for (;;) {
      signal.throwIfAborted();
      const lock = await this.tryAcquire(jobId, executionId, deliveryId);
      if (lock) return lock;
      if (queued) await this.waiter.refresh(jobId, executionId, this.lockTtlMs);
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
