import { InjectQueue } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { QueueName } from '@cronbundle/queue';
import { REDIS, RedisKeys } from '@cronbundle/redis';
import { RunProcessor } from './run/run-processor';
import { WorkerMetrics } from './run/worker.metrics';

export const HEARTBEAT_INTERVAL_MS = 3000;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/**
 * `P:workers` hash: instanceId -> `{lastSeen, concurrency, active, startedAt}`, refreshed every
 * few seconds (GET /cluster reads it), and `cronbundle_queue_jobs{state}` for the runs queue.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly startedAt = new Date().toISOString();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly processor: RunProcessor,
    private readonly metrics: WorkerMetrics,
    @InjectQueue(QueueName.Runs) private readonly runs: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // Bounded: with Redis unreachable the entry simply goes stale (readers judge by lastSeen).
    await Promise.race([
      this.redis.hdel(this.keys.workers, this.config.instanceId).catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 500).unref()),
    ]);
  }

  private async beat(): Promise<void> {
    const value = {
      lastSeen: new Date().toISOString(),
      concurrency: this.config.worker.concurrency,
      active: this.processor.activeCount,
      startedAt: this.startedAt,
    };
    try {
      await this.redis.hset(this.keys.workers, this.config.instanceId, JSON.stringify(value));
      const counts = await this.runs.getJobCounts(...QUEUE_STATES);
      for (const state of QUEUE_STATES) this.metrics.queueJobs.set({ state }, counts[state] ?? 0);
    } catch {
      // Redis unreachable: the next beat tries again; readiness reports the outage.
    }
  }
}
