import type { JobDefinition } from '@cronbundle/core';
import { type RunSchedulerState, schedulerRev } from '@cronbundle/queue';

export interface ReconcilePlan {
  upsert: JobDefinition[];
  remove: string[];
  unchanged: number;
}

/** Whether a definition should have a job scheduler now: enabled, and its window not over. */
export function isScheduled(def: JobDefinition, nowMs: number): boolean {
  if (!def.enabled) return false;
  if (def.schedule.endAt && Date.parse(def.schedule.endAt) < nowMs) return false;
  return true;
}

/**
 * Desired state (definitions that should be scheduled) against actual state (BullMQ's job
 * schedulers): what to upsert (missing or a different revision) and what to remove.
 */
export function planReconcile(
  definitions: Iterable<JobDefinition>,
  actual: RunSchedulerState[],
  nowMs: number,
): ReconcilePlan {
  const actualRev = new Map(actual.map((s) => [s.id, s.rev]));
  const wanted = new Set<string>();
  const upsert: JobDefinition[] = [];
  let unchanged = 0;
  for (const def of definitions) {
    if (!isScheduled(def, nowMs)) continue;
    wanted.add(def.id);
    if (actualRev.get(def.id) === schedulerRev(def)) unchanged++;
    else upsert.push(def);
  }
  const remove = actual.filter((s) => !wanted.has(s.id)).map((s) => s.id);
  return { upsert, remove, unchanged };
}
