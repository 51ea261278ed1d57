import { Inject, Injectable } from '@nestjs/common';
import { forEachBounded, type JobDefinition } from '@cronbundle/core';
import { FencedWriter, LeaderElector } from '@cronbundle/coordination';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { RunSchedulers } from '@cronbundle/queue';
import { RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { isScheduled, planReconcile } from './reconcile-plan';
import { SchedulerMetrics } from './scheduler.metrics';
import { SlotAccountant } from './slot-accountant.service';

export interface ReconcileResult {
  upserted: number;
  removed: number;
  unchanged: number;
  definitions: number;
  ms: number;
  revision: number;
}

/** BullMQ job-scheduler writes a full reconcile keeps in flight at once. */
export const RECONCILE_CONCURRENCY = 64;

/**
 * Registry → BullMQ job schedulers, leader only. Every BullMQ write is preceded by
 * `assertLeader()` (synchronously, right before the call), which also checks the lease deadline on
 * the monotonic clock, so a leader that was paused past its lease refuses before writing; the pass
 * ends with a fenced write of the revision it applied, which Redis refuses for a stale epoch. A full
 * pass keeps up to RECONCILE_CONCURRENCY writes in flight; the first refused check stops it from
 * starting any more, so after leadership is lost at most that many writes already sent can land.
 */
@Injectable()
export class Reconciler {
  /** Definitions as of the last full pass and later events: the slot accountant reads them. */
  readonly definitions = new Map<string, JobDefinition>();

  constructor(
    private readonly registry: JobRegistry,
    private readonly schedulers: RunSchedulers,
    private readonly elector: LeaderElector,
    private readonly fenced: FencedWriter,
    private readonly keys: RedisKeys,
    private readonly metrics: SchedulerMetrics,
    private readonly accountant: SlotAccountant,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async reconcileAll(): Promise<ReconcileResult> {
    const started = performance.now();
    const fence = this.elector.assertLeader();
    const revision = await this.registry.revision();
    const defs: JobDefinition[] = [];
    for (let cursor: string | null | undefined = undefined; ;) {
      const page = await this.registry.list({ limit: 1000, cursor });
      defs.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const actual = await this.schedulers.list();
    const plan = planReconcile(defs, actual, Date.now());
    await forEachBounded(plan.upsert, RECONCILE_CONCURRENCY, async (def) => {
      this.elector.assertLeader();
      await this.schedulers.upsert(def);
    });
    await forEachBounded(plan.remove, RECONCILE_CONCURRENCY, async (id) => {
      this.elector.assertLeader();
      await this.schedulers.remove(id);
      this.accountant.forget(id);
    });
    this.definitions.clear();
    for (const def of defs) this.definitions.set(def.id, def);
    await this.fenced.setFenced(
      fence,
      this.keys.schedulerState,
      JSON.stringify({ epoch: fence.epoch, revision, at: Date.now() }),
    );
    const enabled = defs.filter((d) => d.enabled).length;
    this.metrics.jobs.set({ enabled: 'true' }, enabled);
    this.metrics.jobs.set({ enabled: 'false' }, defs.length - enabled);
    const ms = Math.round(performance.now() - started);
    this.metrics.reconcileSeconds.observe(ms / 1000);
    const result = {
      upserted: plan.upsert.length,
      removed: plan.remove.length,
      unchanged: plan.unchanged,
      definitions: defs.length,
      ms,
      revision,
    };
    if (plan.upsert.length || plan.remove.length)
      this.logger.info({ component: 'reconcile', epoch: fence.epoch, ...result }, 'reconciled');
    return result;
  }

  /** One definition changed (registry event): apply just that one. */
  async reconcileOne(id: string): Promise<void> {
    this.elector.assertLeader();
    const def = await this.registry.find(id);
    this.elector.assertLeader();
    if (def && isScheduled(def, Date.now())) {
      await this.schedulers.upsert(def);
      this.definitions.set(id, def);
      this.logger.info({ component: 'reconcile', epoch: this.elector.epoch, jobId: id }, 'job scheduler upserted');
    } else {
      await this.schedulers.remove(id);
      this.accountant.forget(id);
      if (def) this.definitions.set(id, def);
      else this.definitions.delete(id);
      this.logger.info({ component: 'reconcile', epoch: this.elector.epoch, jobId: id }, 'job scheduler removed');
    }
  }
}
