import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import type { JobDefinition } from '@cronbundle/core';
import { createHash } from 'node:crypto';
import { JobName, RunPayload, runJobId } from './payloads';
import { QueueName } from './queue-names';
import type { CronRepeatOptions } from './repeat-strategy';

/** What reconcile compares: the job scheduler as BullMQ holds it. */
export interface RunSchedulerState {
  id: string;
  /** Hash of everything that shapes the scheduler (schedule, DST policy, window, retry). */
  rev: string | undefined;
  next: number | undefined;
}

/** Data of every slot job of a scheduler: ids only, plus the revision for diffing. */
export interface ScheduledRunData extends RunPayload {
  trigger: 'schedule';
  rev: string;
}

/** BullMQ job options of a run, from the definition's retry policy (exponential backoff). */
export function runJobOptions(def: Pick<JobDefinition, 'retry'>): JobsOptions {
  return {
    attempts: def.retry.attempts,
    backoff: { type: 'exponential', delay: def.retry.backoffSeconds * 1000 },
    // Completed jobs are kept a day: slot job ids are the "already enqueued" proof BullMQ checks.
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    // Failed jobs stay (dead letter) until retention trims them.
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  };
}

export function repeatOptionsOf(def: JobDefinition): CronRepeatOptions {
  const s = def.schedule;
  return {
    pattern: s.cron,
    tz: s.timezone,
    dstPolicy: s.dstPolicy,
    ...(s.startAt ? { startDate: s.startAt } : {}),
    ...(s.endAt ? { endDate: s.endAt } : {}),
  };
}

/** Revision of a scheduler: changes exactly when its slots or its jobs' options would change. */
export function schedulerRev(def: JobDefinition): string {
  const shape = JSON.stringify([repeatOptionsOf(def), runJobOptions(def)]);
  return createHash('sha256').update(shape).digest('base64url').slice(0, 16);
}

/**
 * The `runs` queue as the scheduler uses it: one BullMQ job scheduler per enabled job
 * definition (keyed by job id) and single runs with deterministic ids. BullMQ stays in libs/queue.
 */
@Injectable()
export class RunSchedulers {
  constructor(@InjectQueue(QueueName.Runs) private readonly queue: Queue) {}

  async list(): Promise<RunSchedulerState[]> {
    const out: RunSchedulerState[] = [];
    const pageSize = 1000;
    for (let start = 0; ; start += pageSize) {
      const page = await this.queue.getJobSchedulers(start, start + pageSize - 1, true);
      for (const s of page) {
        out.push({
          id: s.key,
          rev: (s.template?.data as ScheduledRunData | undefined)?.rev,
          next: s.next ?? undefined,
        });
      }
      if (page.length < pageSize) return out;
    }
  }

  async upsert(def: JobDefinition): Promise<void> {
    const data: ScheduledRunData = { jobId: def.id, trigger: 'schedule', rev: schedulerRev(def) };
    await this.queue.upsertJobScheduler(def.id, repeatOptionsOf(def), {
      name: JobName.Run,
      data,
      opts: runJobOptions(def),
    });
  }

  async remove(jobId: string): Promise<void> {
    await this.queue.removeJobScheduler(jobId);
  }

  /** State of a slot's BullMQ job (`repeat:<jobId>:<ms>`), or null when it does not exist. */
  async slotJobState(jobId: string, slotMs: number): Promise<string | null> {
    const job = await this.queue.getJob(`repeat:${jobId}:${slotMs}`);
    return job ? await job.getState() : null;
  }

  /** Enqueue one non-scheduled run; the id is derived from the execution, so a retry adds nothing. */
  async enqueueRun(
    def: JobDefinition,
    payload: RunPayload & { executionId: string; trigger: Exclude<RunPayload['trigger'], 'schedule'> },
  ): Promise<void> {
    await this.queue.add(JobName.Run, payload, {
      ...runJobOptions(def),
      jobId: runJobId(payload.trigger, payload.executionId),
    });
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  }
}
