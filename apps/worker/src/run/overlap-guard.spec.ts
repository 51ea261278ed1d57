import { waitFor } from '@cronbundle/testing';
import type { AppConfig } from '@cronbundle/config';
import type { HeldRunLock, RunLock, RunLockInfo } from '@cronbundle/coordination';
import type { ExecutionStore } from '@cronbundle/executions';
import { OverlapGuard } from './overlap-guard';
import { RunAbort } from './run-abort';
import type { RunLockWaiter } from './run-lock-waiter';

/** In-memory stand-ins for the guard's injected ports (RunLock, ExecutionStore, RunLockWaiter). */
class FakeRunLock {
  readonly held = new Map<string, HeldRunLock>();
  /** Acquire calls so far. */
  tries = 0;
  private seq = 0;

  /** RunLock's rule: free, or held for the same execution under the same delivery (a takeover). */
  async acquire(input: {
    jobId: string;
    executionId: string;
    ttlMs: number;
    deliveryId?: string;
  }): Promise<HeldRunLock | null> {
    this.tries++;
    const current = this.held.get(input.jobId);
    const takeover =
      current !== undefined &&
      input.deliveryId !== undefined &&
      current.executionId === input.executionId &&
      current.deliveryId === input.deliveryId;
    if (current && !takeover) return null;
    const lock: HeldRunLock = { ...input, token: `t${++this.seq}`, startedAt: new Date(0).toISOString() };
    if (takeover) lock.takenOver = true;
    this.held.set(input.jobId, lock);
    return lock;
  }
  async inspect(jobId: string): Promise<RunLockInfo | null> {
    const lock = this.held.get(jobId);
    if (!lock) return null;
    return { runningExecutionId: lock.executionId, startedAt: lock.startedAt, lockExpiresAt: 'soon' };
  }
  async release(lock: HeldRunLock): Promise<boolean> {
    if (this.held.get(lock.jobId)?.token !== lock.token) return false;
    this.held.delete(lock.jobId);
    return true;
  }
  /** Another attempt (on another worker) holds the lock. */
  hold(jobId: string, executionId: string, deliveryId?: string): HeldRunLock {
    const lock: HeldRunLock = {
      jobId,
      executionId,
      ttlMs: 15_000,
      token: `t${++this.seq}`,
      startedAt: new Date(0).toISOString(),
      ...(deliveryId ? { deliveryId } : {}),
    };
    this.held.set(jobId, lock);
    return lock;
  }
}

class FakeWaiter {
  readonly places = new Map<string, string>();
  refreshed = 0;
  async claim(jobId: string, executionId: string): Promise<boolean> {
    const current = this.places.get(jobId);
    if (current === undefined) this.places.set(jobId, executionId);
    return (current ?? executionId) === executionId;
  }
  async refresh(jobId: string, executionId: string): Promise<boolean> {
    this.refreshed++;
    return this.places.get(jobId) === executionId;
  }
  async leave(jobId: string, executionId: string): Promise<void> {
    if (this.places.get(jobId) === executionId) this.places.delete(jobId);
  }
}

describe('OverlapGuard', () => {
  let locks: FakeRunLock;
  let waiter: FakeWaiter;
  let requestCancel: jest.Mock;
  let guard: OverlapGuard;
  const signal = () => new AbortController().signal;

  beforeEach(() => {
    locks = new FakeRunLock();
    waiter = new FakeWaiter();
    requestCancel = jest.fn(async () => 'signalled');
    const config = { worker: { runLockMs: 15_000 } } as AppConfig;
    guard = new OverlapGuard(
      locks as unknown as RunLock,
      { requestCancel } as unknown as ExecutionStore,
      waiter as unknown as RunLockWaiter,
      config,
    );
  });

  it('takes the free lock for its execution whatever the policy (except allow)', async () => {
    for (const policy of ['skip', 'queue', 'cancel-previous'] as const) {
      const decision = await guard.acquire(`job-${policy}`, policy, 'E1', signal());
      expect(decision).toMatchObject({ kind: 'locked', lock: { jobId: `job-${policy}`, executionId: 'E1' } });
    }
  });

  it('allow: takes no lock, even while another run holds it', async () => {
    locks.hold('j', 'RUNNING');
    expect(await guard.acquire('j', 'allow', 'E2', signal())).toEqual({ kind: 'free' });
    expect(locks.held.get('j')?.executionId).toBe('RUNNING');
  });

  it('skip: a run arriving while another holds the lock is skipped with reason overlap', async () => {
    locks.hold('j', 'RUNNING');
    expect(await guard.acquire('j', 'skip', 'E2', signal())).toEqual({
      kind: 'skip',
      reason: 'overlap',
      runningExecutionId: 'RUNNING',
    });
    expect(requestCancel).not.toHaveBeenCalled();
  });

  it('queue: one run waits for the lock and gets it on release; a further arrival is skipped', async () => {
    const running = locks.hold('j', 'RUNNING');
    const first = guard.acquire('j', 'queue', 'E2', signal());
    // The first arrival holds the waiting place...
    await waitFor(() => waiter.places.get('j') === 'E2', {
      timeoutMs: 1000,
      intervalMs: 5,
      what: "waiter.places.get('j') === 'E2'",
    });
    // ...so a second one is skipped at once.
    expect(await guard.acquire('j', 'queue', 'E3', signal())).toEqual({
      kind: 'skip',
      reason: 'overlap: another run is already queued',
      runningExecutionId: 'RUNNING',
    });
    let settled = false;
    void first.then(() => (settled = true));
    // It has found the lock held at least once (it refreshes its place after each try): still waiting.
    await waitFor(() => waiter.refreshed > 1, { timeoutMs: 1000, intervalMs: 5, what: 'waiter.refreshed > 1' });
    expect(settled).toBe(false);

    await locks.release(running);
    expect(await first).toMatchObject({ kind: 'locked', lock: { executionId: 'E2' } });
    // The waiting place is free again for the next run.
    expect(waiter.places.has('j')).toBe(false);
  });

  it('queue: a cancel while waiting rejects with the abort reason and leaves the waiting place', async () => {
    locks.hold('j', 'RUNNING');
    const controller = new AbortController();
    const waiting = guard.acquire('j', 'queue', 'E2', controller.signal);
    await waitFor(() => waiter.places.get('j') === 'E2', {
      timeoutMs: 1000,
      intervalMs: 5,
      what: "waiter.places.get('j') === 'E2'",
    });
    controller.abort(new RunAbort('cancelled', 'cancelled by request'));
    await expect(waiting).rejects.toMatchObject({ kind: 'cancelled' });
    expect(waiter.places.has('j')).toBe(false);
  });

  it('cancel-previous: asks the running execution to cancel, naming the newer one, then takes the lock', async () => {
    const running = locks.hold('j', 'RUNNING');
    requestCancel.mockImplementation(async () => {
      // The previous run's worker aborts and frees the lock a little later.
      setTimeout(() => void locks.release(running), 50);
      return 'signalled';
    });
    const decision = await guard.acquire('j', 'cancel-previous', 'E2', signal());
    expect(requestCancel).toHaveBeenCalledWith('RUNNING', 'cancelled by execution E2 (overlap policy cancel-previous)');
    expect(decision).toMatchObject({ kind: 'locked', lock: { executionId: 'E2' } });
    expect(locks.held.get('j')?.executionId).toBe('E2');
  });

  it('a redelivered run finding the lock of its own execution and delivery takes it over at once, whatever the policy', async () => {
    for (const policy of ['skip', 'queue', 'cancel-previous'] as const) {
      const stale = locks.hold(`j-${policy}`, 'E1', 'manual:E1');
      const decision = await guard.acquire(`j-${policy}`, policy, 'E1', signal(), 'manual:E1');
      expect(decision).toMatchObject({
        kind: 'locked',
        lock: { executionId: 'E1', deliveryId: 'manual:E1', takenOver: true },
      });
      expect(locks.held.get(`j-${policy}`)?.token).not.toBe(stale.token);
      // Nothing was cancelled and nobody queued: the lock was its own.
      expect(requestCancel).not.toHaveBeenCalled();
      expect(waiter.places.size).toBe(0);
    }
  });

  it('its own execution under another delivery (or none) waits for the lock instead of skipping', async () => {
    for (const deliveryId of ['catchup:E1', undefined]) {
      const stale = locks.hold('j', 'E1', 'repeat:j:1');
      locks.tries = 0;
      const decision = guard.acquire('j', 'skip', 'E1', signal(), deliveryId);
      let settled = false;
      void decision.then(() => (settled = true));
      // It has found the lock held twice (the first try, then one poll): still waiting.
      await waitFor(() => locks.tries >= 2, { timeoutMs: 1000, intervalMs: 5, what: 'locks.tries >= 2' });
      expect(settled).toBe(false);
      await locks.release(stale);
      const got = await decision;
      expect(got).toMatchObject({ kind: 'locked', lock: { executionId: 'E1' } });
      expect(got.kind === 'locked' && got.lock.takenOver).toBeFalsy();
      expect(locks.held.get('j')?.token).not.toBe(stale.token);
      locks.held.clear();
    }
  });

  it('another execution holding a lock under the same delivery id is not taken over', async () => {
    locks.hold('j', 'RUNNING', 'd1');
    expect(await guard.acquire('j', 'skip', 'E2', signal(), 'd1')).toEqual({
      kind: 'skip',
      reason: 'overlap',
      runningExecutionId: 'RUNNING',
    });
  });

  it('release frees only the lock it was given', async () => {
    const decision = await guard.acquire('j', 'skip', 'E1', signal());
    if (decision.kind !== 'locked') throw new Error('expected the lock');
    expect(await guard.release(decision.lock)).toBe(true);
    expect(await guard.release(decision.lock)).toBe(false);
  });
});
