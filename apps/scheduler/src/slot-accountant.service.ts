import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { type JobDefinition, slotsBetween } from '@cronbundle/core';
import { FencedWriter, LeaderElector } from '@cronbundle/coordination';
import { ExecutionStore } from '@cronbundle/executions';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { RunSchedulers } from '@cronbundle/queue';
import { REDIS, RedisKeys } from '@cronbundle/redis';
import type { Redis } from 'ioredis';
import { isScheduled } from './reconcile-plan';
import { SchedulerMetrics } from './scheduler.metrics';

const HDEL_LUA = `return redis.call('HDEL', KEYS[1], unpack(ARGV))`;

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
 *
 * The watermarks are kept in Redis as well (`P:scheduler:watermarks`, written fenced), so a new
 * leader resumes where its predecessor stopped: slots missed while no leader swept, before slots
 * that later ran, are still found (starting after the latest recorded slot would skip them).
 */
@Injectable()
export class SlotAccountant {
  /** Per job: every slot at or before this time is accounted for. */
  private readonly watermark = new Map<string, number>();
  /** Watermarks as the previous leader left them in Redis; read once per leadership. */
  private persisted: Map<string, number> | null = null;

  constructor(
    private readonly store: ExecutionStore,
    private readonly schedulers: RunSchedulers,
    private readonly elector: LeaderElector,
    private readonly fenced: FencedWriter,
    private readonly keys: RedisKeys,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly metrics: SchedulerMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Forget watermarks: a new leader starts from what Redis says. */
  reset(): void {
    this.watermark.clear();
    this.persisted = null;
  }

  /**
   * The job's scheduler was removed (disabled, ended, deleted): its watermark stops meaning
   * "accounted up to here". If it is scheduled again, the sweep starts at that change (the
   * definition's `updatedAt`), so the time it was off is not recorded as missed slots.
   */
  forget(jobId: string): void {
    this.watermark.delete(jobId);
  }

  async sweep(definitions: Iterable<JobDefinition>, nowMs = Date.now()): Promise<SweepResult> {
    const result: SweepResult = { missed: 0, caughtUp: 0 };
    const until = nowMs - this.config.scheduler.slotGraceMs;
    const defs = [...definitions];
    if (!this.persisted) await this.loadWatermarks(defs);
    const advanced: Record<string, number> = {};
    for (const def of defs) {
      if (!isScheduled(def, nowMs)) {
        this.forget(def.id);
        continue;
      }
      this.elector.assertLeader();
      const before = this.watermark.get(def.id);
      const r = await this.sweepJob(def, until, nowMs);
      const after = this.watermark.get(def.id);
      if (after !== undefined && after !== before) advanced[def.id] = after;
      result.missed += r.missed;
      result.caughtUp += r.caughtUp;
    }
    // Refused (StaleEpochError) once a newer leader exists, so a paused leader cannot move its
    // successor's watermarks.
    if (Object.keys(advanced).length > 0)
      await this.fenced.hsetFenced(this.elector.assertLeader(), this.keys.slotWatermarks, advanced);
    return result;
  }

  /** Read the predecessor's watermarks, and drop those of jobs that no longer exist. */
  private async loadWatermarks(defs: JobDefinition[]): Promise<void> {
    const raw = await this.redis.hgetall(this.keys.slotWatermarks);
    const known = new Set(defs.map((d) => d.id));
    const persisted = new Map<string, number>();
    const gone: string[] = [];
    for (const [id, value] of Object.entries(raw)) {
      if (!known.has(id)) gone.push(id);
      else if (Number.isFinite(Number(value))) persisted.set(id, Number(value));
    }
    if (gone.length > 0)
      await this.fenced.evalFenced(this.elector.assertLeader(), HDEL_LUA, [this.keys.slotWatermarks], gone);
    this.persisted = persisted;
  }

  private async sweepJob(def: JobDefinition, until: number, nowMs: number): Promise<SweepResult> {
    let from = this.watermark.get(def.id);
    if (from === undefined) {
      // Slots before the definition last changed were planned under another schedule (or none).
      // Otherwise resume where the previous leader stopped; only without its watermark (a first
      // leader) start after the latest recorded slot.
      const floor = Date.parse(def.updatedAt ?? def.createdAt);
      const resumed = this.persisted?.get(def.id) ?? (await this.store.lastSlot(def.id));
      from = Math.max(floor, resumed ?? floor);
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
