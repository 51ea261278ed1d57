import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { JobName, QueueName, repeatStrategy, type RunPayload } from '@cronbundle/queue';
import { RedisConnections, RedisKeys } from '@cronbundle/redis';
import { RunAbort } from './run-abort';
import { RunFailedError, RunRunner } from './run-runner';

/**
 * BullMQ job lock and stalled check: a SIGKILLed worker's run is back in the waiting list within
 * lockDuration + stalledInterval (~15 s) and picked up by another worker (ARCHITECTURE.md §8).
 */
export const RUN_LOCK_DURATION_MS = 10_000;
export const STALLED_INTERVAL_MS = 5_000;
/** Kept for handing interrupted runs back before the process's hard stop (grace + 1.5 s). */
const HANDBACK_RESERVE_MS = 1_000;

/** The BullMQ Worker of the `runs` queue; BullMQ is used here and in libs/queue only. */
@Injectable()
export class RunProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private worker?: Worker<RunPayload>;
  private readonly shutdown = new AbortController();

  constructor(
    private readonly runner: RunRunner,
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get activeCount(): number {
    return this.active;
  }
  private active = 0;

  onApplicationBootstrap(): void {
    this.worker = new Worker<RunPayload>(QueueName.Runs, (job, token) => this.process(job, token), {
      connection: this.connections.create('bullmq', 'worker'),
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
   * SIGTERM: stop taking runs, let active ones finish for up to SHUTDOWN_GRACE_MS, then abort them;
   * they record the attempt as interrupted and go back to the waiting list for another worker.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.worker) return;
    const graceMs = Math.max(0, this.config.shutdownGraceMs - HANDBACK_RESERVE_MS);
    const timer = setTimeout(() => {
      if (this.active > 0) this.logger.warn({ active: this.active }, 'grace period over; handing active runs back');
      this.shutdown.abort(new RunAbort('shutdown', 'worker shutting down'));
    }, graceMs);
    // With Redis unreachable BullMQ's close never settles: stop waiting once the hand-back time is
    // spent too, so the process still exits within its hard-stop limit (grace + 1.5 s).
    let giveUp: NodeJS.Timeout | undefined;
    const limit = new Promise<'timeout'>((resolve) => {
      giveUp = setTimeout(() => resolve('timeout'), graceMs + HANDBACK_RESERVE_MS - 200);
    });
    try {
      const closed = await Promise.race([this.worker.close().then(() => 'closed' as const), limit]);
      if (closed === 'timeout') this.logger.warn('the runs worker did not close in time (Redis unreachable?)');
    } finally {
      clearTimeout(timer);
      clearTimeout(giveUp);
    }
  }

  private async process(job: Job<RunPayload>, token: string | undefined): Promise<unknown> {
    if (job.name !== JobName.Run) throw new UnrecoverableError(`unexpected job name ${job.name} on queue runs`);
    this.active++;
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
      return { executionId: outcome.executionId, status: outcome.status };
    } catch (err) {
      if (err instanceof RunFailedError && !err.retry) throw new UnrecoverableError(err.message);
      throw err;
    } finally {
      this.active--;
    }
  }
}
