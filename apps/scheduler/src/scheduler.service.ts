import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { LeaderElector, NotLeaderError, StaleEpochError } from '@cronbundle/coordination';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { REDIS, RedisKeys } from '@cronbundle/redis';
import { JobRegistry, RegistryEvent, RegistrySubscription } from '@cronbundle/registry';
import { Reconciler } from './reconciler.service';
import { SchedulerMetrics } from './scheduler.metrics';
import { SlotAccountant } from './slot-accountant.service';

const SWEEP_INTERVAL_MS = 2000;
const HEARTBEAT_INTERVAL_MS = 3000;

/**
 * The scheduler process: runs for leadership; as leader, reconciles on election, on every registry
 * event and every RECONCILE_INTERVAL_MS, and sweeps slots every 2 s. Work runs one step at a time
 * (a promise chain), so a reconcile and a sweep never interleave their writes.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timers: NodeJS.Timeout[] = [];
  private heartbeat?: NodeJS.Timeout;
  private subscription?: RegistrySubscription;
  private lastRevision = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private leaderSince?: string;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly elector: LeaderElector,
    private readonly reconciler: Reconciler,
    private readonly accountant: SlotAccountant,
    private readonly registry: JobRegistry,
    private readonly metrics: SchedulerMetrics,
    private readonly keys: RedisKeys,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.metrics.leader.set(0);
    this.elector.on('elected', ({ epoch }) => this.onElected(epoch));
    this.elector.on('lost', ({ reason, epoch }) => this.onLost(reason, epoch));
    this.subscription = await this.registry.subscribe((e) => this.onRegistryEvent(e), {
      onResubscribed: () => this.enqueue('resync after reconnect', () => this.reconciler.reconcileAll()),
    });
    await this.elector.start();
    void this.beat();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopLeaderWork();
    clearInterval(this.heartbeat);
    // Release the lease first: Nest runs this hook before CoordinationLifecycle's, and waiting for
    // the work chain (a reconcile of thousands of definitions) would keep every follower waiting.
    // The step in progress stops at its next assertLeader().
    await this.elector.stop();
    await this.subscription?.close().catch(() => undefined);
    await this.chain.catch(() => undefined);
    await this.redis.hdel(this.keys.workers, this.config.instanceId).catch(() => undefined);
  }

  private onElected(epoch: number): void {
    this.leaderSince = new Date().toISOString();
    this.metrics.leader.set(1);
    this.metrics.leaderTransitions.inc();
    this.logger.info({ component: 'leader', epoch }, 'became leader');
    this.accountant.reset();
    this.enqueue('reconcile on election', async () => {
      const r = await this.reconciler.reconcileAll();
      this.lastRevision = r.revision;
      await this.accountant.sweep(this.reconciler.definitions.values());
    });
    // Registries written before the dependants index existed: build it once (workers scan until then).
    this.enqueue('dependants index rebuild', async () => {
      if (await this.registry.dependantsIndexReady()) return;
      const r = await this.registry.rebuildDependantsIndex();
      this.logger.info({ component: 'registry', ...r }, 'dependants index built');
    });
    this.timers.push(
      setInterval(
        () => this.enqueue('periodic reconcile', () => this.reconciler.reconcileAll()),
        this.config.scheduler.reconcileIntervalMs,
      ),
      setInterval(
        () => this.enqueue('slot sweep', () => this.accountant.sweep(this.reconciler.definitions.values())),
        SWEEP_INTERVAL_MS,
      ),
    );
    void this.beat();
  }

  private onLost(reason: string, epoch: number | undefined): void {
    this.stopLeaderWork();
    this.leaderSince = undefined;
    this.metrics.leader.set(0);
    this.metrics.leaderTransitions.inc();
    this.logger.warn({ component: 'leader', epoch, reason }, 'stepped down');
    void this.beat();
  }

  private stopLeaderWork(): void {
    this.timers.forEach((t) => clearInterval(t));
    this.timers = [];
  }

  private onRegistryEvent(event: RegistryEvent): void {
    if (!this.elector.isLeader) return;
    const gap = event.revision !== this.lastRevision + 1;
    this.lastRevision = Math.max(this.lastRevision, event.revision);
    if (gap) {
      // Pub/sub is at most once: a gap in revisions means we missed events; re-read everything.
      this.enqueue('resync after a revision gap', () => this.reconciler.reconcileAll());
    } else {
      this.enqueue(`registry ${event.type} ${event.id}`, () => this.reconciler.reconcileOne(event.id));
    }
  }

  private enqueue(what: string, step: () => Promise<unknown>): void {
    this.chain = this.chain.then(async () => {
      if (!this.elector.isLeader) return;
      try {
        await step();
      } catch (err) {
        if (err instanceof NotLeaderError || err instanceof StaleEpochError) {
          this.logger.warn(
            { component: 'leader', what, err: (err as Error).message },
            'leader work refused: not the leader any more',
          );
          return;
        }
        this.logger.error({ component: 'scheduler', what, err }, `${what} failed`);
      }
    });
  }

  private async beat(): Promise<void> {
    const value = {
      role: 'scheduler',
      lastSeen: new Date().toISOString(),
      startedAt: this.startedAt,
      leader: this.elector.isLeader,
      leaderSince: this.leaderSince,
      epoch: this.elector.isLeader ? this.elector.epoch : undefined,
    };
    await this.redis.hset(this.keys.workers, this.config.instanceId, JSON.stringify(value)).catch(() => undefined);
  }
}
