import type { AppConfig } from '@cronbundle/config';
import type { HeldRunLock, RunLock, RunLockInfo } from '@cronbundle/coordination';
import type { ExecutionStore } from '@cronbundle/executions';
import { OverlapGuard } from './overlap-guard';
import { RunAbort } from './run-abort';
import type { RunLockWaiter } from './run-lock-waiter';

/** In-memory stand-ins for the guard's injected ports (RunLock, ExecutionStore, RunLockWaiter). */
class FakeRunLock {
  readonly held = new Map<string, HeldRunLock>();
  private seq = 0;

  async acquire(input: { jobId: string; executionId: string; ttlMs: number }): Promise<HeldRunLock | null> {
    if (this.held.has(input.jobId)) return null;
    const lock = { ...input, token: `t${++this.seq}`, startedAt: new Date(0).toISOString() };
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
  /** Another execution (on another worker) holds the lock. */
  hold(jobId: string, executionId: string): HeldRunLock {
    const lock = { jobId, executionId, ttlMs: 15_000, token: `t${++this.seq}`, startedAt: new Date(0).toISOString() };
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
    await waitUntil(() => waiter.places.get('j') === 'E2');
    // ...so a second one is skipped at once.
    expect(await guard.acquire('j', 'queue', 'E3', signal())).toEqual({
      kind: 'skip',
      reason: 'overlap: another run is already queued',
      runningExecutionId: 'RUNNING',
    });
    let settled = false;
    void first.then(() => (settled = true));
    // It has found the lock held at least once (it refreshes its place after each try): still waiting.
    await waitUntil(() => waiter.refreshed > 1);
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
    await waitUntil(() => waiter.places.get('j') === 'E2');
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

  it('a redelivered run finding its own execution in the lock waits for it instead of skipping', async () => {
    const stale = locks.hold('j', 'E1');
    const decision = guard.acquire('j', 'skip', 'E1', signal());
    setTimeout(() => void locks.release(stale), 50);
    expect(await decision).toMatchObject({ kind: 'locked', lock: { executionId: 'E1' } });
    expect(locks.held.get('j')?.token).not.toBe(stale.token);
  });

  it('release frees only the lock it was given', async () => {
    const decision = await guard.acquire('j', 'skip', 'E1', signal());
    if (decision.kind !== 'locked') throw new Error('expected the lock');
    expect(await guard.release(decision.lock)).toBe(true);
    expect(await guard.release(decision.lock)).toBe(false);
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not reached');
}
