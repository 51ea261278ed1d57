import type { RepeatOptions } from 'bullmq';
import { type DstPolicy, nextSlotAfter } from '@cronbundle/core';

/**
 * Repeat options of a cronbundle job scheduler. `dstPolicy` is ours: BullMQ keeps unknown keys
 * in each slot job's `opts.repeat` and hands them back to the repeat strategy, so the policy
 * travels with the scheduler and every worker computes the same next slot.
 */
export interface CronRepeatOptions extends Omit<RepeatOptions, 'key'> {
  pattern: string;
  tz: string;
  dstPolicy?: Partial<DstPolicy>;
}

/**
 * BullMQ `settings.repeatStrategy` for the `runs` queue (Queue and Worker alike): the next slot
 * strictly after `millis` under the job's timezone, DST policy and start/end window, computed by
 * libs/core (cron-parser alone cannot skip or repeat DST times on request).
 */
export function repeatStrategy(millis: number, opts: RepeatOptions): number | undefined {
  const o = opts as CronRepeatOptions;
  if (!o.pattern) return undefined;
  return nextSlotAfter(
    {
      cron: o.pattern,
      timezone: o.tz ?? 'UTC',
      dstPolicy: o.dstPolicy,
      startAt: o.startDate === undefined ? null : new Date(o.startDate).toISOString(),
      endAt: o.endDate === undefined ? null : new Date(o.endDate).toISOString(),
    },
    millis,
  );
}
