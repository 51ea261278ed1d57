import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { RunLock, type KeepAlive } from '@cronbundle/coordination';
import {
  isTerminalStatus,
  jitterDelayMs,
  nextSlotAfter,
  type ExecutionError,
  type JobDefinition,
  type LogLevel,
} from '@cronbundle/core';
import { ExecutionStore, StaleAttemptError, type AttemptWrites, type Execution } from '@cronbundle/executions';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { scheduledForOf, type RunPayload } from '@cronbundle/queue';
import { JobRegistry } from '@cronbundle/registry';
import { NOTIFY_STAGE, StageError, type NotifyStage, type RunContext } from '../pipeline/pipeline.types';
import { RunPipeline } from '../pipeline/run-pipeline';
import { CancelListener } from './cancel-listener';
import { RunJournal } from './run-journal';
import { DependencyTrigger } from './dependency-trigger';
import { OverlapGuard } from './overlap-guard';
import { abortKindOf, RunAbort } from './run-abort';
import { WorkerMetrics } from './worker.metrics';

/** One delivery of a `run` job by BullMQ, without BullMQ types (the processor adapts). */
export interface Delivery {
  bullJobId: string | undefined;
  payload: RunPayload;
  /** Failed attempts BullMQ has counted so far (stalls are not counted). */
  attemptsMade: number;
  /** BullMQ `attempts` of the job (1 when unset). */
  maxAttempts: number;
  /** Fires when this worker shuts down and its grace period is over. */
  shutdown: AbortSignal;
}

export type DeliveryOutcome =
  /** Nothing more to do: complete the BullMQ job. */
  | { kind: 'done'; executionId?: string; status?: string }
  /** The worker is shutting down: put the BullMQ job back in the waiting list for another worker. */
  | { kind: 'handback'; executionId?: string }
  /** A scheduled run whose jitter delay has not passed: delay the BullMQ job until `until` (epoch ms). */
  | { kind: 'delay'; executionId: string; until: number };

/** A failed attempt; `retry` false means BullMQ must not try again (timeouts, bad definitions). */
export class RunFailedError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
    this.name = 'RunFailedError';
  }
}

/**
 * The runtime of one delivery: re-read the definition, find or create the execution, apply the
 * overlap policy, run the pipeline under cancel/timeout/lock/shutdown signals, and write the
 * outcome. Throwing tells BullMQ the attempt failed (it retries per the job's retry policy).
 */
@Injectable()
export class RunRunner {
  private readonly workerId: string;

  constructor(
    private readonly registry: JobRegistry,
    private readonly store: ExecutionStore,
    private readonly overlap: OverlapGuard,
    private readonly runLock: RunLock,
    private readonly cancels: CancelListener,
    private readonly pipeline: RunPipeline,
    private readonly dependencies: DependencyTrigger,
    private readonly metrics: WorkerMetrics,
    @Inject(NOTIFY_STAGE) private readonly notifyStage: NotifyStage,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.workerId = config.instanceId;
  }

  async handle(delivery: Delivery): Promise<DeliveryOutcome> {
    const { payload } = delivery;
    const job = await this.registry.find(payload.jobId);
    const record = await this.resolveRecord(delivery);
    if (!record) {
      this.logger.warn(
        { bullJobId: delivery.bullJobId, jobId: payload.jobId },
        'run without an execution record; dropped',
      );
      return { kind: 'done' };
    }
    const log = this.logger.child({ executionId: record.id, jobId: record.jobId });
    if (isTerminalStatus(record.status)) {
      log.info({ status: record.status }, 'execution already finished; not running it again');
      return { kind: 'done', executionId: record.id, status: record.status };
    }
    if (!job) return this.skip(record, 'job deleted', undefined);
    // A disabled job's slots are skipped; an explicit manual trigger still runs.
    if (!job.enabled && record.trigger !== 'manual') return this.skip(record, 'job disabled', job);
    const delay = await this.jitter(job, record, log);
    if (delay) return delay;

    // Cancel requests reach this delivery from now on, including while it waits for the lock.
    const controller = new AbortController();
    const unregister = this.cancels.register(record.id, () =>
      controller.abort(new RunAbort('cancelled', 'cancelled by request')),
    );
    const onShutdown = () => controller.abort(new RunAbort('shutdown', 'worker shutting down'));
    if (delivery.shutdown.aborted) onShutdown();
    else delivery.shutdown.addEventListener('abort', onShutdown, { once: true });
    try {
      let decision;
      try {
        decision = await this.overlap.acquire(
          job.id,
          job.overlapPolicy,
          record.id,
          controller.signal,
          delivery.bullJobId,
        );
      } catch (err) {
        const kind = abortKindOf(controller.signal);
        if (kind === 'shutdown') return { kind: 'handback', executionId: record.id };
        if (kind === 'cancelled') {
          const reason = (await this.store.get(record.id))?.cancelReason ?? 'cancelled by request';
          if (await this.store.finishUnstarted(record.id, { status: 'cancelled', reason, retention: job.retention }))
            this.countEnd(job, record, 'cancelled');
          return { kind: 'done', executionId: record.id, status: 'cancelled' };
        }
        throw err;
      }
      if (decision.kind === 'skip') {
        const reason = decision.reason;
        log.info({ runningExecutionId: decision.runningExecutionId, reason }, 'run skipped by the overlap policy');
        return this.skip(record, reason, job);
      }
      const lock = decision.kind === 'locked' ? decision.lock : undefined;
      let released = false;
      // Released before the final write, so whoever sees the record final also finds the job free.
      const releaseLock = async () => {
        if (!lock || released) return;
        released = true;
        await this.overlap.release(lock).catch(() => undefined);
      };
      try {
        const keepAlive = lock && this.keepLock(lock, controller);
        return await this.runLocked(delivery, job, record, controller, keepAlive, releaseLock);
      } finally {
        await releaseLock();
      }
    } finally {
      unregister();
      delivery.shutdown.removeEventListener('abort', onShutdown);
    }
  }

  private keepLock(lock: Parameters<RunLock['keepAlive']>[0], controller: AbortController): KeepAlive {
    return this.runLock.keepAlive(lock, {
      onLost: (reason) => controller.abort(new RunAbort('lock-lost', `run lock ${reason}`)),
    });
  }

  private async runLocked(
    delivery: Delivery,
    job: JobDefinition,
    record: Execution,
    controller: AbortController,
    keepAlive: KeepAlive | undefined,
    releaseLock: () => Promise<void>,
  ): Promise<DeliveryOutcome> {
    const log = this.logger.child({ executionId: record.id, jobId: job.id });
    // The "started" line is written with the attempt (one step); the start also returns a pending
    // cancel and the jitter delay, so the record is not read again.
    const started = await this.store.start(record.id, this.workerId, {
      log: { level: 'info', component: 'worker', message: `attempt {attempt} started on ${this.workerId}` },
    });
    if (started.kind !== 'started') {
      keepAlive?.stop();
      return { kind: 'done', executionId: record.id };
    }
    const attempt = started.attempt;
    if (started.redelivered) {
      this.metrics.redeliveries.inc();
      log.warn({ attempt }, 'picked up a run whose previous worker stopped (redelivery)');
    }
    if (started.cancelRequestedAt)
      controller.abort(new RunAbort('cancelled', started.cancelReason ?? 'cancelled by request'));

    const scheduledFor = record.scheduledFor ? Date.parse(record.scheduledFor) : Date.now();
    if (record.trigger === 'schedule' || record.trigger === 'catchup') {
      // Lag is measured from when the run was due: its slot plus its jitter delay.
      const due = scheduledFor + (started.jitterMs ?? 0);
      this.metrics.scheduleLag.observe(Math.max(0, (Date.now() - due) / 1000));
    }
    const timeoutMs = job.timeoutSeconds * 1000;
    const timer = setTimeout(
      () => controller.abort(new RunAbort('timeout', `timed out after ${job.timeoutSeconds} s`)),
      timeoutMs,
    );
    // Log lines and stage timings are buffered and written at most JOURNAL_FLUSH_MS later, or with
    // the attempt's final write (docs/WORKER.md, "Record writes"). A refused flush means another
    // worker took the run over: stop this attempt.
    const journal = new RunJournal(this.store, record.id, attempt, {
      onStale: (err) => controller.abort(err),
    });
    const writeLog = (level: LogLevel, component: string, message: string) => journal.log(level, component, message);
    const workDir = await mkdtemp(join(tmpdir(), `cronbundle-run-${record.id}-`));
    // A lost run lock aborts the controller too (keepLock's onLost), so one signal says why.
    const ctx: RunContext = {
      job,
      executionId: record.id,
      attempt,
      scheduledFor,
      signal: controller.signal,
      workDir,
      log: writeLog,
    };
    const runStarted = Date.now();
    this.metrics.active.inc();
    try {
      const details = await this.pipeline.run(ctx, async (stage, ms) => {
        this.metrics.stageDuration.observe({ stage }, ms / 1000);
        journal.stage(stage, ms);
      });
      const writes = await journal.take();
      keepAlive?.stop();
      await releaseLock();
      await this.store.finish(record.id, attempt, {
        status: 'succeeded',
        details,
        retention: job.retention,
        writes,
      });
      if (details.bundle) this.metrics.bundleSize.observe(details.bundle.sizeBytes);
      this.countEnd(job, record, 'succeeded');
      this.checkOverrun(job, scheduledFor, runStarted, log);
      log.info({ attempt, ms: Date.now() - runStarted }, 'run succeeded');
      await this.notify(ctx, record.id, 'succeeded', null);
      await this.dependencies
        .afterSuccess(job.id, record.id)
        .catch((err: unknown) => log.error({ err }, 'could not trigger dependent jobs'));
      return { kind: 'done', executionId: record.id, status: 'succeeded' };
    } catch (err) {
      const writes = await journal.take();
      keepAlive?.stop();
      await releaseLock();
      return await this.afterFailure(delivery, job, record, attempt, ctx, err, log, writes);
    } finally {
      journal.close();
      clearTimeout(timer);
      keepAlive?.stop();
      this.metrics.active.dec();
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async afterFailure(
    delivery: Delivery,
    job: JobDefinition,
    record: Execution,
    attempt: number,
    ctx: RunContext,
    err: unknown,
    log: Logger,
    writes: AttemptWrites,
  ): Promise<DeliveryOutcome> {
    // Refused by a stage-timing/log flush (the journal aborts the run with it) or by a final write.
    const stale = err instanceof StaleAttemptError ? err : ctx.signal.reason;
    if (stale instanceof StaleAttemptError) {
      log.warn({ attempt }, 'this attempt is no longer current (another worker took the run over); stopping');
      throw stale;
    }
    const kind = abortKindOf(ctx.signal) ?? (err instanceof RunAbort ? err.kind : undefined);
    const stage: ExecutionError['stage'] =
      err instanceof StageError ? err.stage : kind === 'lock-lost' ? 'lock' : 'internal';
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof StageError && err.stage === 'upload') this.metrics.uploadFailures.inc();

    if (kind === 'shutdown') {
      await this.store.requeue(record.id, attempt, {
        writes,
        attemptStatus: 'interrupted',
        reason: `interrupted: worker ${this.workerId} shut down; handed back to the queue`,
      });
      log.warn({ attempt }, 'run interrupted by shutdown; handed back to the queue');
      return { kind: 'handback', executionId: record.id };
    }
    if (kind === 'cancelled') {
      // The request's own reason (who cancelled, or which run replaced this one) is on the record.
      const reason = (await this.store.get(record.id))?.cancelReason ?? 'cancelled by request';
      await this.store.finish(record.id, attempt, { status: 'cancelled', reason, retention: job.retention, writes });
      this.countEnd(job, record, 'cancelled');
      log.info({ attempt }, 'run cancelled');
      return { kind: 'done', executionId: record.id, status: 'cancelled' };
    }
    if (kind === 'timeout') {
      const error = { stage, message: `timed out after ${job.timeoutSeconds} s` };
      await this.store.finish(record.id, attempt, { status: 'timed_out', error, retention: job.retention, writes });
      this.countEnd(job, record, 'timed_out');
      log.warn({ attempt, stage }, 'run timed out');
      await this.notify(ctx, record.id, 'timed_out', error);
      throw new RunFailedError(error.message, false);
    }
    const error: ExecutionError = { stage, message };
    const willRetry = delivery.attemptsMade + 1 < delivery.maxAttempts;
    if (willRetry) {
      const reason = `retrying: attempt ${delivery.attemptsMade + 1} of ${delivery.maxAttempts} failed`;
      await this.store.requeue(record.id, attempt, { attemptStatus: 'failed', error, reason, writes });
      this.metrics.retries.inc();
      log.warn({ attempt, err }, reason);
    } else {
      await this.store.finish(record.id, attempt, { status: 'failed', error, retention: job.retention, writes });
      this.countEnd(job, record, 'failed');
      log.error({ attempt, err }, 'run failed');
      await this.notify(ctx, record.id, 'failed', error);
    }
    // Rethrow: BullMQ retries (with the job's backoff) or moves the job to the failed set.
    throw new RunFailedError(`${stage}: ${message}`, true);
  }

  /**
   * `schedule.jitterSeconds`: a scheduled run starts at its slot plus a delay of 0..N s that is
   * deterministic per (job, slot), so a redelivery never re-rolls it; the delay is recorded on the
   * execution (`jitterMs`). Before that time the delivery is delayed (the processor moves the BullMQ
   * job to the delayed set: no attempt is counted and no second record is made). Manual,
   * dependency and catch-up runs get no jitter.
   */
  private async jitter(job: JobDefinition, record: Execution, log: Logger): Promise<DeliveryOutcome | undefined> {
    if (record.trigger !== 'schedule' || record.status !== 'queued' || !record.scheduledFor) return undefined;
    const slot = Date.parse(record.scheduledFor);
    const jitterMs = record.jitterMs ?? jitterDelayMs(job.schedule, slot, job.id);
    if (jitterMs <= 0) return undefined;
    if (record.jitterMs === undefined && (await this.store.setJitter(record.id, jitterMs))) {
      record.jitterMs = jitterMs;
      await this.store
        .log(record.id, { level: 'info', component: 'worker', message: `start delayed by jitter: ${jitterMs} ms` })
        .catch(() => undefined);
    }
    const until = slot + jitterMs;
    // Never early; a delivery a few ms early (clocks of the workers) is just delayed again.
    if (Date.now() >= until) return undefined;
    log.debug({ jitterMs, until: new Date(until).toISOString() }, 'scheduled run delayed by its jitter');
    return { kind: 'delay', executionId: record.id, until };
  }

  private async resolveRecord(delivery: Delivery): Promise<Execution | null> {
    const { payload } = delivery;
    if (payload.executionId) return this.store.get(payload.executionId);
    if (payload.trigger === 'schedule' || payload.trigger === 'catchup') {
      const slot = scheduledForOf(delivery.bullJobId, payload);
      if (slot === undefined) throw new RunFailedError(`scheduled run ${delivery.bullJobId} has no slot time`, false);
      const { record } = await this.store.ensureSlot({
        jobId: payload.jobId,
        scheduledFor: slot,
        trigger: payload.trigger,
      });
      return record;
    }
    return this.store.create({
      jobId: payload.jobId,
      trigger: payload.trigger,
      scheduledFor: payload.scheduledFor ?? Date.now(),
    });
  }

  private async skip(record: Execution, reason: string, job: JobDefinition | undefined): Promise<DeliveryOutcome> {
    let ended = await this.store.finishUnstarted(record.id, {
      status: 'skipped',
      reason,
      ...(job ? { retention: job.retention } : {}),
    });
    if (!ended && record.status === 'running') {
      // A redelivered run: close its attempt as skipped instead.
      const started = await this.store.start(record.id, this.workerId);
      if (started.kind === 'started') {
        await this.store.finish(record.id, started.attempt, { status: 'skipped', reason });
        ended = true;
      }
    }
    if (ended) this.metrics.executions.inc({ job: record.jobId, status: 'skipped', trigger: record.trigger });
    return { kind: 'done', executionId: record.id, status: 'skipped' };
  }

  private countEnd(job: JobDefinition, record: Execution, status: string): void {
    this.metrics.executions.inc({ job: job.id, status, trigger: record.trigger });
  }

  /** A run longer than the job's interval (slot to next slot) is an overrun: warn and count it. */
  private checkOverrun(job: JobDefinition, scheduledFor: number, startedAt: number, log: Logger): void {
    let next: number | undefined;
    try {
      next = nextSlotAfter(job.schedule, scheduledFor);
    } catch {
      return;
    }
    if (next === undefined) return;
    const intervalMs = next - scheduledFor;
    const durationMs = Date.now() - startedAt;
    if (durationMs > intervalMs) {
      this.metrics.overruns.inc({ job: job.id });
      log.warn(
        { durationMs, intervalMs },
        `run took ${durationMs} ms, longer than the job's interval of ${intervalMs} ms`,
      );
    }
  }

  private async notify(ctx: RunContext, id: string, event: string, error: ExecutionError | null): Promise<void> {
    const started = performance.now();
    try {
      const status = event === 'succeeded' || event === 'timed_out' ? event : 'failed';
      await this.notifyStage.notify(ctx, event, { id, status, error });
      this.metrics.stageDuration.observe({ stage: 'notify' }, (performance.now() - started) / 1000);
    } catch (err) {
      this.logger.warn({ err, executionId: id }, 'notification failed');
    }
  }
}
