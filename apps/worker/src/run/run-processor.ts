import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { JobName, QueueName, repeatStrategy, type ReuploadPayload, type RunPayload } from '@cronbundle/queue';
import { isRedisUnavailable, RedisConnections, RedisKeys } from '@cronbundle/redis';
import { ReuploadHandler } from './reupload-handler';
import { RunAbort } from './run-abort';
import { RunFailedError, RunRunner } from './run-runner';

/**
 * BullMQ job lock and stalled check (ARCHITECTURE.md §8). BullMQ renews each active job's lock to
 * lockDuration every lockDuration / 2 (2.5 s), and each renewal takes the job out of BullMQ's
 * stalled set. A stalled check (at most one per stalledInterval across all workers: they share a
 * key with that ttl) moves a job found in the set whose lock is gone back to waiting, then puts
 * every active job in the set. After a SIGKILL it takes one check to mark the job and one after
 * its lock ran out (≤ lockDuration after the kill) to move it; since a worker whose check finds
 * the shared key still set does nothing, checks can be up to 2 × stalledInterval apart. So another
 * worker picks the run up within lockDuration + 2 × stalledInterval (≤ 8 s) of the kill, and takes
 * over its run lock at once (RunLock: same execution and delivery). Measured: docs/BENCHMARKS.md.
 *
 * The renewal is a timer on this process's event loop: a loop blocked for longer than what is
 * left of the lock (2.5–5 s, depending on when in the renewal cycle it blocks) lets the lock
 * lapse, and a busy but alive worker's run is redelivered as if it had died; the new attempt
 * takes the run over and the old one is fenced out (its run lock keepAlive reports it lost and
 * aborts it; its record writes are refused as a stale attempt). Collectors, bundling and uploads
 * are asynchronous I/O or child processes, so the loop stays free; keep CPU-heavy work off it.
 */
export const RUN_LOCK_DURATION_MS = 5_000;
export const STALLED_INTERVAL_MS = 1_500;
/** Kept for handing interrupted runs back before the process's hard stop (grace + 1.5 s). */
const HANDBACK_RESERVE_MS = 1_000;
/** A delivery cut off by a Redis outage is tried again this much later. */
const REDIS_RETRY_DELAY_MS = 1_000;
/** Kept after the worker is closed for the remaining shutdown steps (Redis connections, HTTP). */
const SHUTDOWN_MARGIN_MS = 200;
/** With Redis unreachable: how long aborted runs get to unwind before the worker is force-closed. */
const ABORT_UNWIND_MS = 300;
/** Bound on a forced close or a disconnect (no Redis round trip is involved). */
const FORCED_CLOSE_MS = 300;

/** The BullMQ Worker of the `runs` queue; BullMQ is used here and in libs/queue only. */
@Injectable()
export class RunProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private worker?: Worker<RunPayload>;
  private connection?: Redis;
  private readonly shutdown = new AbortController();
  /** Deliveries being processed now (settle when the processor function returns or throws). */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly runner: RunRunner,
    private readonly reuploads: ReuploadHandler,
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get activeCount(): number {
    return this.running.size;
  }

  onApplicationBootstrap(): void {
    this.connection = this.connections.create('bullmq', 'worker');
    this.worker = new Worker<RunPayload>(QueueName.Runs, (job, token) => this.track(this.process(job, token)), {
      connection: this.connection,
      prefix: this.keys.bullPrefix,
      name: this.config.instanceId,
      concurrency: this.config.worker.concurrency,
      lockDuration: RUN_LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      // A run may be recovered from a dead worker twice before BullMQ fails it.
      maxStalledCount: 2,
      // Job-scheduler slots follow the job's DST policy (libs/queue), on workers as on the scheduler.
      settings: { repeatStrategy },
    });
    this.worker.on('error', (err) => this.logger.error({ err }, 'runs worker error'));
    this.worker.on('stalled', (jobId) =>
      this.logger.warn({ bullJobId: jobId }, 'a run stalled; it will be redelivered'),
    );
  }

  /**
   * SIGTERM: stop taking runs, let active ones finish for up to SHUTDOWN_GRACE_MS (minus the
   * hand-back reserve), then abort them; they record the attempt as interrupted and go back to the
   * waiting list for another worker. With Redis unreachable nothing can be handed back and BullMQ's
   * graceful close never settles, so its connections are cut instead. Every wait is bounded: the
   * process exits 0 well before its hard stop (grace + 1.5 s).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const deadline = Date.now() + Math.max(0, this.config.shutdownGraceMs - SHUTDOWN_MARGIN_MS);
    // Closing stops fetching at once (and cuts the blocking connection). Graceful, it then waits
    // for active runs and BullMQ's writes about them; idle with Redis gone there is nothing to
    // wait for, so force (no Redis round trip).
    const closing = worker.close(!this.redisReachable() && this.running.size === 0).then(
      () => true,
      () => true,
    );

    const graceMs = Math.max(0, this.config.shutdownGraceMs - HANDBACK_RESERVE_MS);
    if (this.running.size > 0 && !(await settledWithin([...this.running], graceMs))) {
      const reachable = this.redisReachable();
      this.logger.warn(
        { active: this.running.size, redisReachable: reachable },
        reachable
          ? 'grace period over; handing active runs back'
          : 'grace period over and Redis unreachable: aborting active runs (BullMQ redelivers them later)',
      );
      this.shutdown.abort(new RunAbort('shutdown', 'worker shutting down'));
      // A hand-back needs Redis; without it the aborted runs only get a moment to unwind.
      const unwindMs = reachable ? deadline - Date.now() : Math.min(ABORT_UNWIND_MS, deadline - Date.now());
      await settledWithin([...this.running], Math.max(0, unwindMs));
    }

    // With Redis reachable BullMQ's close finishes quickly; without it, it never would.
    if (this.redisReachable() && (await settledWithin([closing], Math.max(FORCED_CLOSE_MS, deadline - Date.now()))))
      return;
    if (await settledWithin([closing], 0)) return;
    this.logger.warn('the runs worker cannot close cleanly (Redis unreachable?); disconnecting it');
    await settledWithin(
      [worker.disconnect().catch(() => undefined), Promise.resolve(this.connection?.disconnect())],
      FORCED_CLOSE_MS,
    );
  }

  /** The Worker's own connection is up (BullMQ would otherwise retry its commands forever). */
  private redisReachable(): boolean {
    return this.connection?.status === 'ready';
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return work;
  }

  private async process(job: Job<RunPayload>, token: string | undefined): Promise<unknown> {
    if (job.name === JobName.Reupload) return this.reuploads.handle(job.data as unknown as ReuploadPayload);
    if (job.name !== JobName.Run) throw new UnrecoverableError(`unexpected job name ${job.name} on queue runs`);
    try {
      const outcome = await this.runner.handle({
        bullJobId: job.id,
        payload: job.data,
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
        shutdown: this.shutdown.signal,
      });
      if (outcome.kind === 'handback') {
        await job.moveToWait(token);
        // Tells BullMQ the job was moved on purpose: neither completed nor failed.
        throw new WaitingError();
      }
      if (outcome.kind === 'delay') {
        // Jitter: back to the delayed set until its time; BullMQ counts no attempt for it.
        await job.moveToDelayed(outcome.until, token);
        throw new DelayedError();
      }
      return { executionId: outcome.executionId, status: outcome.status };
    } catch (err) {
      if (err instanceof RunFailedError && !err.retry) throw new UnrecoverableError(err.message);
      if (isRedisUnavailable(err)) {
        // Redis went away under the run (the app connection gives up after 2 retries): that is not an
        // attempt of the run. Deliver it again once Redis is back (BullMQ's own connection waits for
        // it); the execution record and the run lock are found again then. Counting it as a failed
        // attempt would leave the record queued/running for good once the attempts ran out.
        this.logger.warn(
          { bullJobId: job.id, err: (err as Error).message },
          'Redis unavailable during a run; delivery delayed',
        );
        await job.moveToDelayed(Date.now() + REDIS_RETRY_DELAY_MS, token);
        throw new DelayedError();
      }
      throw err;
    }
  }
}

/** Whether every promise settled within `ms` (they keep running either way). */
async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
