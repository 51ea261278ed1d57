import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { type JobDefinition, slotsBetween } from '@cronbundle/core';
import { LeaderElector } from '@cronbundle/coordination';
import { ExecutionStore } from '@cronbundle/executions';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { RunSchedulers } from '@cronbundle/queue';
import { isScheduled } from './reconcile-plan';
import { SchedulerMetrics } from './scheduler.metrics';

/** BullMQ states in which a slot's job will still run (or is running): not ours to account. */
const IN_FLIGHT = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children', 'paused']);

export interface SweepResult {
  missed: number;
  caughtUp: number;
}

/**
 * Slot accounting (issue 4 §5). BullMQ's job scheduler creates a slot's job when the previous
 * slot's job starts; while no worker runs, or all are busy past a slot, that slot is never created
 * and would vanish silently. The leader walks each job's slots up to now − SLOT_GRACE_MS: a slot
 * with an execution record ran (or was skipped) and was counted by the worker; a slot whose BullMQ
 * job exists is in flight; a slot with neither is missed — or, if it is the latest such slot and
 * within `catchupWindowSeconds`, it gets one catch-up run. `ensureSlot` creates a slot's record at
 * most once, so the worker and the accountant can never both claim a slot.
 */
@Injectable()
export class SlotAccountant {
  /** Per job: every slot at or before this time is accounted for. */
  private readonly watermark = new Map<string, number>();

  constructor(
    private readonly store: ExecutionStore,
    private readonly schedulers: RunSchedulers,
    private readonly elector: LeaderElector,
    private readonly metrics: SchedulerMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Forget watermarks: a new leader starts from what Redis says. */
  reset(): void {
    this.watermark.clear();
  }

  async sweep(definitions: Iterable<JobDefinition>, nowMs = Date.now()): Promise<SweepResult> {
    const result: SweepResult = { missed: 0, caughtUp: 0 };
    const until = nowMs - this.config.scheduler.slotGraceMs;
    for (const def of definitions) {
      if (!isScheduled(def, nowMs)) continue;
      this.elector.assertLeader();
      const r = await this.sweepJob(def, until, nowMs);
      result.missed += r.missed;
      result.caughtUp += r.caughtUp;
    }
    return result;
  }

  private async sweepJob(def: JobDefinition, until: number, nowMs: number): Promise<SweepResult> {
    let from = this.watermark.get(def.id);
    if (from === undefined) {
      // Slots before the definition last changed were planned under another schedule (or none).
      const floor = Date.parse(def.updatedAt ?? def.createdAt);
      from = Math.max(floor, (await this.store.lastSlot(def.id)) ?? floor);
    }
    const due = slotsBetween(def.schedule, from, until, 10_000);
    const missing: number[] = [];
    let accounted = from;
    for (const slot of due) {
      if (await this.store.slotExecutionId(def.id, slot)) {
        accounted = slot;
        continue;
      }
      const state = await this.schedulers.slotJobState(def.id, slot);
      if (state && IN_FLIGHT.has(state)) break; // the worker will account for it and what follows
      missing.push(slot);
      accounted = slot;
    }
    const result: SweepResult = { missed: 0, caughtUp: 0 };
    const windowMs = def.catchupWindowSeconds * 1000;
    const latest = missing[missing.length - 1];
    for (const slot of missing) {
      this.elector.assertLeader();
      if (slot === latest && windowMs > 0 && nowMs - slot <= windowMs) {
        const { record, created } = await this.store.ensureSlot({
          jobId: def.id,
          scheduledFor: slot,
          trigger: 'catchup',
          status: 'queued',
        });
        if (created) {
          await this.schedulers.enqueueRun(def, {
            jobId: def.id,
            trigger: 'catchup',
            scheduledFor: slot,
            executionId: record.id,
          });
          result.caughtUp++;
          this.logger.info(
            { component: 'slots', jobId: def.id, slot: new Date(slot).toISOString(), executionId: record.id },
            'catch-up run enqueued',
          );
        }
      } else {
        const reason =
          windowMs > 0 && nowMs - slot > windowMs
            ? `no worker started this slot, and it is older than the catch-up window (${def.catchupWindowSeconds} s)`
            : windowMs > 0
              ? 'no worker started this slot; a later slot was caught up instead'
              : 'no worker started this slot in time (workers down or all busy) and catchupWindowSeconds is 0';
        const { created } = await this.store.ensureSlot({
          jobId: def.id,
          scheduledFor: slot,
          trigger: 'schedule',
          status: 'missed',
          reason,
        });
        if (created) {
          result.missed++;
          this.metrics.slots.inc({ outcome: 'missed' });
          this.logger.warn(
            { component: 'slots', jobId: def.id, slot: new Date(slot).toISOString(), reason },
            'slot missed',
          );
        }
      }
    }
    this.watermark.set(def.id, accounted);
    return result;
  }
}
