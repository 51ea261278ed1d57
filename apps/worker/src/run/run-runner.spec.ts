import { waitFor } from '@cronbundle/testing';
import type { AppConfig } from '@cronbundle/config';
import type { HeldRunLock, KeepAliveOptions, RunLock } from '@cronbundle/coordination';
import { jitterDelayMs, parseJobDefinition, type JobDefinition, type OverlapPolicy } from '@cronbundle/core';
import { StaleAttemptError, type AttemptWrites, type Execution, type ExecutionStore } from '@cronbundle/executions';
import { Metrics, type Logger } from '@cronbundle/observability';
import type { RunPayload } from '@cronbundle/queue';
import type { JobRegistry } from '@cronbundle/registry';
import type { NotifyStage, RunContext } from '../pipeline/pipeline.types';
import type { RunPipeline, StageListener } from '../pipeline/run-pipeline';
import type { CancelListener } from './cancel-listener';
import type { DependencyTrigger } from './dependency-trigger';
import type { OverlapDecision, OverlapGuard } from './overlap-guard';
import { RunAbort } from './run-abort';
import { RunFailedError, RunRunner, type Delivery } from './run-runner';
import { WorkerMetrics } from './worker.metrics';

/**
 * RunRunner with every injected port replaced by an in-memory stand-in: the registry, the
 * execution store, the overlap guard, the run lock, the cancel listener, the pipeline, the
 * dependency trigger, the notify stage and the logger. Metrics are the real prom-client ones.
 */

/** Just enough of ExecutionStore's state machine to watch what the runner writes. */
class FakeStore {
  readonly records = new Map<string, Execution>();
  readonly calls: { op: string; id: string; args: unknown }[] = [];
  private seq = 0;

  add(partial: Partial<Execution> & { jobId: string }): Execution {
    const id = `E${++this.seq}`;
    const record: Execution = {
      id,
      trigger: 'manual',
      scheduledFor: new Date(1_000_000).toISOString(),
      queuedAt: null,
      startedAt: null,
      finishedAt: null,
      status: 'queued',
      reason: null,
      attempt: 0,
      workerId: null,
      stages: {},
      error: null,
      attempts: [],
      ...partial,
    };
    this.records.set(id, record);
    return record;
  }

  async get(id: string) {
    const r = this.records.get(id);
    return r ? structuredClone(r) : null;
  }
  async ensureSlot(input: { jobId: string; scheduledFor: number; trigger: 'schedule' | 'catchup' }) {
    const existing = [...this.records.values()].find(
      (r) => r.jobId === input.jobId && r.scheduledFor === new Date(input.scheduledFor).toISOString(),
    );
    if (existing) return { record: structuredClone(existing), created: false };
    const record = this.add({ ...input, scheduledFor: new Date(input.scheduledFor).toISOString() });
    return { record: structuredClone(record), created: true };
  }
  async start(id: string, workerId: string) {
    const r = this.records.get(id)!;
    const redelivered = r.status === 'running';
    if (redelivered) r.attempts[r.attempts.length - 1].status = 'failed';
    r.attempt += 1;
    r.status = 'running';
    r.workerId = workerId;
    r.attempts.push({ attempt: r.attempt, workerId, startedAt: 'now', status: 'running' });
    return {
      kind: 'started' as const,
      attempt: r.attempt,
      redelivered,
      cancelRequestedAt: r.cancelRequestedAt ?? undefined,
      cancelReason: r.cancelReason ?? undefined,
      jitterMs: r.jitterMs,
    };
  }
  async append(id: string, attempt: number, writes: AttemptWrites) {
    this.calls.push({ op: 'append', id, args: writes });
    this.fence(id, attempt);
    this.applyWrites(id, writes);
  }
  private applyWrites(id: string, writes: AttemptWrites | undefined) {
    const r = this.records.get(id)!;
    for (const [stage, ms] of Object.entries(writes?.stages ?? {}))
      (r.stages as Record<string, { ms: number }>)[stage] = { ms: Math.round(ms) };
  }
  async recordStage(id: string, attempt: number, stage: string, ms: number) {
    this.fence(id, attempt);
    (this.records.get(id)!.stages as Record<string, { ms: number }>)[stage] = { ms };
  }
  async log() {
    return true;
  }
  async setJitter(id: string, ms: number) {
    const r = this.records.get(id)!;
    if (r.status !== 'queued') return false;
    r.jitterMs = ms;
    return true;
  }
  async finish(
    id: string,
    attempt: number,
    outcome: { status: Execution['status']; error?: unknown; reason?: string; writes?: AttemptWrites },
  ) {
    this.calls.push({ op: 'finish', id, args: outcome });
    this.fence(id, attempt);
    this.applyWrites(id, outcome.writes);
    const r = this.records.get(id)!;
    r.status = outcome.status;
    r.error = (outcome.error as Execution['error']) ?? null;
    r.reason = outcome.reason ?? null;
    r.attempts[attempt - 1].status = outcome.status as never;
  }
  async requeue(id: string, attempt: number, outcome: { attemptStatus: 'failed' | 'interrupted'; reason: string }) {
    this.calls.push({ op: 'requeue', id, args: outcome });
    this.fence(id, attempt);
    const r = this.records.get(id)!;
    r.status = 'queued';
    r.reason = outcome.reason;
    r.attempts[attempt - 1].status = outcome.attemptStatus;
  }
  async finishUnstarted(id: string, outcome: { status: Execution['status']; reason: string }) {
    this.calls.push({ op: 'finishUnstarted', id, args: outcome });
    const r = this.records.get(id)!;
    if (r.status !== 'queued') return false;
    r.status = outcome.status;
    r.reason = outcome.reason;
    return true;
  }
  private fence(id: string, attempt: number) {
    const r = this.records.get(id)!;
    if (r.status !== 'running' || r.attempt !== attempt) throw new StaleAttemptError(id, attempt);
  }
}

/** A pipeline whose run is scripted per test; by default it succeeds at once. */
type Script = (ctx: RunContext, onStage: StageListener) => Promise<unknown>;

function job(overrides: Partial<JobDefinition> & { overlapPolicy?: OverlapPolicy } = {}): JobDefinition {
  const spec = parseJobDefinition({
    id: 'job-a',
    schedule: { cron: '0 0 1 1 *' },
    spec: { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { hostCollectors: [] } },
  });
  return {
    ...spec,
    source: 'api',
    version: 1,
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    ...overrides,
  };
}

/** Waits until the run's signal fires, then throws what a stage would: the abort reason. */
const untilAborted = (ctx: Pick<RunContext, 'signal'>): Promise<never> =>
  new Promise((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    else ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });

function makeLogger() {
  const warn = jest.fn();
  const logger = { info: jest.fn(), warn, error: jest.fn(), debug: jest.fn() } as Record<string, unknown>;
  logger.child = () => logger;
  return { logger: logger as unknown as Logger, warn };
}

describe('RunRunner', () => {
  let store: FakeStore;
  let definitions: Map<string, JobDefinition>;
  let decision: OverlapDecision;
  let releases: HeldRunLock[];
  let keepAliveOptions: KeepAliveOptions | undefined;
  let cancelHandlers: Map<string, () => void>;
  let script: Script;
  let notified: { event: string; status: string }[];
  let afterSuccess: jest.Mock;
  let metrics: Metrics;
  let warn: jest.Mock;
  let runner: RunRunner;

  const heldLock = (executionId: string): HeldRunLock => ({
    jobId: 'job-a',
    executionId,
    token: 'tok',
    ttlMs: 15_000,
    startedAt: new Date(0).toISOString(),
  });

  beforeEach(() => {
    store = new FakeStore();
    definitions = new Map([['job-a', job()]]);
    decision = { kind: 'free' };
    releases = [];
    keepAliveOptions = undefined;
    cancelHandlers = new Map();
    script = async () => ({ collectors: { total: 1, failed: 0 } });
    notified = [];
    afterSuccess = jest.fn(async () => []);
    metrics = new Metrics();
    const made = makeLogger();
    warn = made.warn;

    const registry = { find: async (id: string) => definitions.get(id) };
    const overlap = {
      acquire: jest.fn(async () => decision),
      release: async (lock: HeldRunLock) => {
        releases.push(lock);
        return true;
      },
    };
    const runLock = {
      keepAlive: (_lock: HeldRunLock, options: KeepAliveOptions) => {
        keepAliveOptions = options;
        return { signal: new AbortController().signal, stop: () => undefined };
      },
    };
    const cancels = {
      register: (id: string, onCancel: () => void) => {
        cancelHandlers.set(id, onCancel);
        return () => cancelHandlers.delete(id);
      },
    };
    const pipeline = { run: (ctx: RunContext, onStage: StageListener) => script(ctx, onStage) };
    const notify: NotifyStage = {
      notify: async (_ctx, event, record) => {
        notified.push({ event, status: record.status });
      },
    };
    runner = new RunRunner(
      registry as unknown as JobRegistry,
      store as unknown as ExecutionStore,
      overlap as unknown as OverlapGuard,
      runLock as unknown as RunLock,
      cancels as unknown as CancelListener,
      pipeline as unknown as RunPipeline,
      { afterSuccess } as unknown as DependencyTrigger,
      new WorkerMetrics(metrics),
      notify,
      { instanceId: 'worker-1' } as AppConfig,
      made.logger,
    );
  });

  const delivery = (payload: Partial<RunPayload> & { executionId?: string }, extra: Partial<Delivery> = {}) => ({
    bullJobId: 'b1',
    payload: { jobId: 'job-a', trigger: 'manual' as const, ...payload },
    attemptsMade: 0,
    maxAttempts: 1,
    shutdown: new AbortController().signal,
    ...extra,
  });

  /** The value of one metric series, read from the prom-client registry. */
  const metricValue = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === `cronbundle_${name}`);
    const series = (metric?.values ?? []).find((v) =>
      Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val),
    );
    return series?.value ?? 0;
  };

  describe('overlap policy decisions', () => {
    it('skip decision: the record ends skipped with the decision reason and the pipeline never runs', async () => {
      const record = store.add({ jobId: 'job-a' });
      decision = { kind: 'skip', reason: 'overlap', runningExecutionId: 'OTHER' };
      script = jest.fn();
      const outcome = await runner.handle(delivery({ executionId: record.id }));
      expect(outcome).toEqual({ kind: 'done', executionId: record.id, status: 'skipped' });
      expect(store.records.get(record.id)).toMatchObject({ status: 'skipped', reason: 'overlap', attempt: 0 });
      expect(script).not.toHaveBeenCalled();
      expect(await metricValue('executions_total', { job: 'job-a', status: 'skipped', trigger: 'manual' })).toBe(1);
    });

    it('free decision (allow): runs without a lock or keep-alive', async () => {
      const record = store.add({ jobId: 'job-a' });
      const outcome = await runner.handle(delivery({ executionId: record.id }));
      expect(outcome).toEqual({ kind: 'done', executionId: record.id, status: 'succeeded' });
      expect(keepAliveOptions).toBeUndefined();
      expect(releases).toEqual([]);
    });

    it('locked decision (queue / cancel-previous once the lock is theirs): runs under the lock, then releases it', async () => {
      const record = store.add({ jobId: 'job-a' });
      decision = { kind: 'locked', lock: heldLock(record.id) };
      let releasedAtFinish = -1;
      const finish = store.finish.bind(store);
      store.finish = async (...args: Parameters<FakeStore['finish']>) => {
        releasedAtFinish = releases.length;
        return finish(...args);
      };
      const outcome = await runner.handle(delivery({ executionId: record.id }));
      expect(outcome).toMatchObject({ status: 'succeeded' });
      expect(keepAliveOptions?.onLost).toBeInstanceOf(Function);
      expect(releases.map((l) => l.executionId)).toEqual([record.id]);
      // Freed before the record turns final: whoever sees it final can run the job again at once.
      expect(releasedAtFinish).toBe(1);
    });

    it('a cancel while waiting for the lock ends the unstarted record as cancelled', async () => {
      const record = store.add({ jobId: 'job-a' });
      const overlap = (runner as unknown as { overlap: { acquire: jest.Mock } }).overlap;
      overlap.acquire.mockImplementation((_j: string, _p: string, _id: string, signal: AbortSignal) =>
        untilAborted({ signal }),
      );
      const outcome = runner.handle(delivery({ executionId: record.id }));
      await waitFor(() => cancelHandlers.has(record.id), {
        timeoutMs: 1000,
        intervalMs: 5,
        what: 'cancelHandlers.has(record.id)',
      });
      cancelHandlers.get(record.id)!();
      expect(await outcome).toEqual({ kind: 'done', executionId: record.id, status: 'cancelled' });
      expect(store.records.get(record.id)).toMatchObject({ status: 'cancelled', attempt: 0 });
      expect(await metricValue('executions_total', { job: 'job-a', status: 'cancelled', trigger: 'manual' })).toBe(1);
    });
  });

  it('lost run lock: the run is aborted (kind lock-lost) and its record ends failed naming the lock', async () => {
    const record = store.add({ jobId: 'job-a' });
    decision = { kind: 'locked', lock: heldLock(record.id) };
    let seen: unknown;
    script = async (ctx) => {
      setTimeout(() => keepAliveOptions!.onLost!('lost'), 5);
      return untilAborted(ctx).catch((err: unknown) => {
        seen = err;
        throw err;
      });
    };
    await expect(runner.handle(delivery({ executionId: record.id }))).rejects.toBeInstanceOf(RunFailedError);
    expect(seen).toBeInstanceOf(RunAbort);
    expect((seen as RunAbort).kind).toBe('lock-lost');
    expect(store.records.get(record.id)).toMatchObject({
      status: 'failed',
      error: { message: 'run lock lost' },
    });
    expect(releases).toHaveLength(1);
  });

  it('lost run lock after another worker took the run over: the late write is refused (StaleAttemptError)', async () => {
    const record = store.add({ jobId: 'job-a' });
    decision = { kind: 'locked', lock: heldLock(record.id) };
    script = async (ctx) => {
      // Another worker starts attempt 2 (it took the run over), then this one notices its lock is gone.
      await store.start(record.id, 'worker-2');
      keepAliveOptions!.onLost!('lost');
      return untilAborted(ctx);
    };
    await expect(runner.handle(delivery({ executionId: record.id }))).rejects.toBeInstanceOf(StaleAttemptError);
    expect(store.records.get(record.id)).toMatchObject({ status: 'running', attempt: 2, workerId: 'worker-2' });
  });

  it('timeoutSeconds: the run is aborted and ends timed_out, without a retry, and the hook hears timed_out', async () => {
    definitions.set('job-a', job({ timeoutSeconds: 0.05 }));
    const record = store.add({ jobId: 'job-a' });
    script = untilAborted;
    const failure = runner.handle(delivery({ executionId: record.id }, { maxAttempts: 3 }));
    await expect(failure).rejects.toMatchObject({ name: 'RunFailedError', retry: false });
    expect(store.records.get(record.id)).toMatchObject({
      status: 'timed_out',
      error: { message: 'timed out after 0.05 s' },
    });
    expect(store.calls.some((c) => c.op === 'requeue')).toBe(false);
    expect(notified).toEqual([{ event: 'timed_out', status: 'timed_out' }]);
    expect(await metricValue('executions_total', { status: 'timed_out', trigger: 'manual' })).toBe(1);
  });

  it('cancel request while running: ends cancelled with the request reason, no notification of failure', async () => {
    const record = store.add({ jobId: 'job-a' });
    script = async (ctx) => {
      const r = store.records.get(record.id)!;
      r.cancelRequestedAt = 'now';
      r.cancelReason = 'cancelled by alice';
      cancelHandlers.get(record.id)!();
      return untilAborted(ctx);
    };
    const outcome = await runner.handle(delivery({ executionId: record.id }));
    expect(outcome).toEqual({ kind: 'done', executionId: record.id, status: 'cancelled' });
    expect(store.records.get(record.id)).toMatchObject({ status: 'cancelled', reason: 'cancelled by alice' });
    expect(notified).toEqual([]);
    expect(await metricValue('executions_total', { status: 'cancelled' })).toBe(1);
  });

  it('a cancel requested before the attempt started aborts it at once', async () => {
    const record = store.add({ jobId: 'job-a', cancelRequestedAt: 'earlier', cancelReason: 'cancelled by bob' });
    script = untilAborted;
    const outcome = await runner.handle(delivery({ executionId: record.id }));
    expect(outcome.kind === 'done' && outcome.status).toBe('cancelled');
    expect(store.records.get(record.id)!.reason).toBe('cancelled by bob');
  });

  describe('retries', () => {
    it('a failed attempt with attempts left goes back to queued, counts a retry and rethrows for BullMQ', async () => {
      const record = store.add({ jobId: 'job-a' });
      script = async () => {
        throw new Error('disk on fire');
      };
      await expect(
        runner.handle(delivery({ executionId: record.id }, { attemptsMade: 0, maxAttempts: 3 })),
      ).rejects.toMatchObject({ name: 'RunFailedError', retry: true });
      expect(store.records.get(record.id)).toMatchObject({
        status: 'queued',
        reason: 'retrying: attempt 1 of 3 failed',
        attempts: [{ attempt: 1, status: 'failed' }],
      });
      expect(await metricValue('retries_total')).toBe(1);
      expect(notified).toEqual([]);

      // BullMQ's second delivery: attempt 2 succeeds; both attempts stay on the record.
      script = async () => ({});
      await runner.handle(delivery({ executionId: record.id }, { attemptsMade: 1, maxAttempts: 3 }));
      expect(store.records.get(record.id)).toMatchObject({
        status: 'succeeded',
        attempt: 2,
        attempts: [
          { attempt: 1, status: 'failed' },
          { attempt: 2, status: 'succeeded' },
        ],
      });
      expect(await metricValue('retries_total')).toBe(1);
    });

    it('the last attempt ends the record failed, fires the failure hook and counts no retry', async () => {
      const record = store.add({ jobId: 'job-a', attempt: 2, status: 'queued' });
      store.records
        .get(record.id)!
        .attempts.push(
          { attempt: 1, workerId: 'w', startedAt: 'x', status: 'failed' },
          { attempt: 2, workerId: 'w', startedAt: 'x', status: 'failed' },
        );
      script = async () => {
        throw new Error('still on fire');
      };
      await expect(
        runner.handle(delivery({ executionId: record.id }, { attemptsMade: 2, maxAttempts: 3 })),
      ).rejects.toMatchObject({ retry: true });
      expect(store.records.get(record.id)).toMatchObject({
        status: 'failed',
        attempt: 3,
        error: { stage: 'internal', message: 'still on fire' },
      });
      expect(notified).toEqual([{ event: 'failed', status: 'failed' }]);
      expect(await metricValue('retries_total')).toBe(0);
      expect(await metricValue('executions_total', { status: 'failed' })).toBe(1);
    });

    it('a redelivery (previous worker died mid-run) counts in redeliveries_total', async () => {
      const record = store.add({ jobId: 'job-a', status: 'running', attempt: 1 });
      store.records.get(record.id)!.attempts.push({ attempt: 1, workerId: 'dead', startedAt: 'x', status: 'running' });
      await runner.handle(delivery({ executionId: record.id }));
      expect(store.records.get(record.id)!.attempts.map((a) => a.status)).toEqual(['failed', 'succeeded']);
      expect(await metricValue('redeliveries_total')).toBe(1);
    });
  });

  describe('record writes of a running attempt (buffered)', () => {
    it('stage timings and log lines of a short run reach the record with its final write, in order, with no write per stage', async () => {
      const record = store.add({ jobId: 'job-a' });
      script = async (ctx, onStage) => {
        ctx.log('info', 'collector', 'first');
        await onStage('collect', 12);
        ctx.log('debug', 'analyze', 'second');
        await onStage('analyze', 1);
        return {};
      };
      const outcome = await runner.handle(delivery({ executionId: record.id }));
      expect(outcome).toMatchObject({ status: 'succeeded' });
      expect(store.calls.map((c) => c.op)).toEqual(['finish']);
      const writes = (store.calls[0].args as { writes: AttemptWrites }).writes;
      expect(writes.logs!.map((l) => [l.component, l.message])).toEqual([
        ['collector', 'first'],
        ['analyze', 'second'],
      ]);
      expect(store.records.get(record.id)!.stages).toEqual({ collect: { ms: 12 }, analyze: { ms: 1 } });
    });

    it('a flush refused because another worker took the run over stops this attempt with StaleAttemptError', async () => {
      const record = store.add({ jobId: 'job-a' });
      script = async (ctx) => {
        ctx.log('info', 'collector', 'working');
        // Another worker starts attempt 2 meanwhile; this attempt's next flush (≤ 1 s) is refused.
        await store.start(record.id, 'worker-2');
        return untilAborted(ctx);
      };
      await expect(runner.handle(delivery({ executionId: record.id }))).rejects.toBeInstanceOf(StaleAttemptError);
      expect(store.calls.map((c) => c.op)).toEqual(['append']);
      expect(store.records.get(record.id)).toMatchObject({ status: 'running', attempt: 2, workerId: 'worker-2' });
      expect(warn).toHaveBeenCalledWith({ attempt: 1 }, expect.stringMatching(/no longer current/));
    });
  });

  describe('overruns', () => {
    afterEach(() => jest.useRealTimers());

    it('a run longer than the interval warns with both durations and counts overruns_total{job}', async () => {
      // Every 10 s; only Date is faked so the run "lasts" 25 s without waiting for it.
      definitions.set('job-a', job({ schedule: { ...job().schedule, cron: '*/10 * * * * *' } }));
      jest.useFakeTimers({ doNotFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });
      jest.setSystemTime(Date.UTC(2026, 0, 1, 0, 0, 0));
      const slot = Date.UTC(2026, 0, 1, 0, 0, 0);
      const { record } = await store.ensureSlot({ jobId: 'job-a', scheduledFor: slot, trigger: 'schedule' });
      script = async () => {
        jest.setSystemTime(slot + 25_000);
        return {};
      };
      await runner.handle(delivery({ executionId: record.id, trigger: 'schedule' }));
      expect(await metricValue('overruns_total', { job: 'job-a' })).toBe(1);
      expect(warn).toHaveBeenCalledWith(
        { durationMs: 25_000, intervalMs: 10_000 },
        "run took 25000 ms, longer than the job's interval of 10000 ms",
      );
    });

    it('a run shorter than the interval is not an overrun', async () => {
      definitions.set('job-a', job({ schedule: { ...job().schedule, cron: '*/10 * * * * *' } }));
      const record = store.add({ jobId: 'job-a' });
      await runner.handle(delivery({ executionId: record.id }));
      expect(await metricValue('overruns_total', { job: 'job-a' })).toBe(0);
      expect(warn).not.toHaveBeenCalledWith(expect.anything(), expect.stringMatching(/longer than the job's interval/));
    });
  });

  it('a succeeded run counts executions_total{job,status,trigger}, moves executions_active up and down, triggers dependents', async () => {
    const record = store.add({ jobId: 'job-a' });
    let activeDuringRun = -1;
    script = async () => {
      activeDuringRun = await metricValue('executions_active');
      return {};
    };
    await runner.handle(delivery({ executionId: record.id }));
    expect(activeDuringRun).toBe(1);
    expect(await metricValue('executions_active')).toBe(0);
    expect(await metricValue('executions_total', { job: 'job-a', status: 'succeeded', trigger: 'manual' })).toBe(1);
    expect(afterSuccess).toHaveBeenCalledWith('job-a', record.id);
  });

  describe('jitter (schedule.jitterSeconds)', () => {
    afterEach(() => jest.useRealTimers());
    const withJitter = (seconds: number) => job({ schedule: { ...job().schedule, jitterSeconds: seconds } });
    /** A slot whose jitter (seeded with the job id) is at least 5 s of the 60 s spread. */
    const slotWithJitter = () => {
      for (let slot = Date.UTC(2026, 0, 1); ; slot += 60_000)
        if (jitterDelayMs({ jitterSeconds: 60 }, slot, 'job-a') >= 5000) return slot;
    };
    const onlyDate = () =>
      jest.useFakeTimers({ doNotFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });

    it('first delivery of a scheduled slot is delayed to slot + jitter, recorded, with no attempt; then it runs', async () => {
      definitions.set('job-a', withJitter(60));
      const slot = slotWithJitter();
      const jitter = jitterDelayMs({ jitterSeconds: 60 }, slot, 'job-a');
      onlyDate();
      jest.setSystemTime(slot + 20);
      script = jest.fn(async () => ({}));
      const first = await runner.handle(delivery({ trigger: 'schedule', scheduledFor: slot }));
      const id = [...store.records.keys()][0];
      expect(first).toEqual({ kind: 'delay', executionId: id, until: slot + jitter });
      expect(store.records.get(id)).toMatchObject({ status: 'queued', attempt: 0, jitterMs: jitter });
      expect(script).not.toHaveBeenCalled();

      // The definition's jitter changes meanwhile: the recorded delay stands (no re-roll).
      definitions.set('job-a', withJitter(1));
      jest.setSystemTime(slot + jitter + 5);
      const second = await runner.handle(delivery({ trigger: 'schedule', scheduledFor: slot }));
      expect(second).toEqual({ kind: 'done', executionId: id, status: 'succeeded' });
      expect(store.records.size).toBe(1);
      expect(store.records.get(id)).toMatchObject({ status: 'succeeded', attempt: 1, jitterMs: jitter });
    });

    it('a redelivery before the recorded time is delayed again to the same instant', async () => {
      definitions.set('job-a', withJitter(60));
      const slot = slotWithJitter();
      onlyDate();
      jest.setSystemTime(slot);
      const first = await runner.handle(delivery({ trigger: 'schedule', scheduledFor: slot }));
      jest.setSystemTime(slot + 1000);
      const again = await runner.handle(delivery({ trigger: 'schedule', scheduledFor: slot }));
      expect(again).toEqual(first);
      expect(store.records.size).toBe(1);
    });

    it('manual triggers and jobs without jitter run at once', async () => {
      definitions.set('job-a', withJitter(3600));
      const manual = store.add({ jobId: 'job-a', scheduledFor: new Date().toISOString() });
      expect(await runner.handle(delivery({ executionId: manual.id }))).toMatchObject({ status: 'succeeded' });
      expect(store.records.get(manual.id)!.jitterMs).toBeUndefined();

      definitions.set('job-a', job());
      const slot = Date.now();
      expect(await runner.handle(delivery({ trigger: 'schedule', scheduledFor: slot }))).toMatchObject({
        kind: 'done',
        status: 'succeeded',
      });
    });
  });

  it('shutdown during a run: the attempt is recorded interrupted and the run handed back to the queue', async () => {
    const record = store.add({ jobId: 'job-a' });
    const shutdown = new AbortController();
    script = async (ctx) => {
      shutdown.abort();
      return untilAborted(ctx);
    };
    const outcome = await runner.handle(delivery({ executionId: record.id }, { shutdown: shutdown.signal }));
    expect(outcome).toEqual({ kind: 'handback', executionId: record.id });
    expect(store.records.get(record.id)).toMatchObject({
      status: 'queued',
      attempts: [{ attempt: 1, status: 'interrupted' }],
    });
  });

  it('a deleted job ends the record skipped (job deleted); a disabled job skips scheduled runs only', async () => {
    const gone = store.add({ jobId: 'job-gone' });
    expect(await runner.handle(delivery({ jobId: 'job-gone', executionId: gone.id }))).toMatchObject({
      status: 'skipped',
    });
    expect(store.records.get(gone.id)!.reason).toBe('job deleted');

    definitions.set('job-a', job({ enabled: false }));
    const { record } = await store.ensureSlot({ jobId: 'job-a', scheduledFor: 5_000, trigger: 'schedule' });
    await runner.handle(delivery({ executionId: record.id, trigger: 'schedule' }));
    expect(store.records.get(record.id)).toMatchObject({ status: 'skipped', reason: 'job disabled' });
    const manual = store.add({ jobId: 'job-a' });
    expect(await runner.handle(delivery({ executionId: manual.id }))).toMatchObject({ status: 'succeeded' });
  });
});
