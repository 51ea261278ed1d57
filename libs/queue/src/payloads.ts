import type { Trigger } from '@cronbundle/core';
import { QueueName } from './queue-names';

/**
 * BullMQ job names, one per payload type. DO NOT RENAME a shipped value (jobs in Redis carry it).
 */
export enum JobName {
  /** Run a job definition once (queue `runs`). */
  Run = 'run',
  /** Deliver one notification (queue `notifications`). */
  Notify = 'notify',
  /** Upload a finished execution's bundle again, to its job's current destination (queue `runs`). */
  Reupload = 'reupload',
}

/**
 * Payloads carry ids; state lives in the registry and the execution store (CONVENTIONS.md).
 * A worker re-reads the definition by `jobId` at run time, so an edit applies to the next run.
 */
export interface RunPayload {
  jobId: string;
  trigger: Trigger;
  /**
   * The slot this run is for (epoch ms). For scheduled runs BullMQ's job scheduler fixes it in
   * the job id (`repeat:<jobId>:<ms>`), see `scheduledForOf`; manual runs use the trigger time.
   */
  scheduledFor?: number;
  /** Set when the execution record was created before enqueueing (manual, dependency, catch-up). */
  executionId?: string;
}

export interface NotifyPayload {
  executionId: string;
  event: string;
}

/** `POST /executions/:id/reupload`; the request is recorded on the execution (`reupload`). */
export interface ReuploadPayload {
  executionId: string;
  /** Epoch ms of the request (names the BullMQ job, see `reuploadJobId`). */
  requestedAt: number;
}

export interface PayloadOf {
  [JobName.Run]: RunPayload;
  [JobName.Notify]: NotifyPayload;
  [JobName.Reupload]: ReuploadPayload;
}

export const QUEUE_OF: { [N in JobName]: QueueName } = {
  [JobName.Run]: QueueName.Runs,
  [JobName.Notify]: QueueName.Notifications,
  [JobName.Reupload]: QueueName.Runs,
};

/** A typed job item: `{ name, data }` where data is exactly that name's payload. */
export type JobItem = { [N in JobName]: { name: N; data: PayloadOf[N] } }[JobName];

const SCHEDULER_JOB_ID = /^repeat:(.+):(\d+)$/;

/**
 * The slot time of a run: from the job-scheduler job id (`repeat:<schedulerId>:<millis>`, which is
 * what makes a slot impossible to enqueue twice), else the payload's `scheduledFor`.
 */
export function scheduledForOf(jobId: string | undefined, payload: RunPayload): number | undefined {
  const match = jobId ? SCHEDULER_JOB_ID.exec(jobId) : null;
  if (match) return Number(match[2]);
  return payload.scheduledFor;
}

/**
 * Deterministic BullMQ job id for a non-scheduled run (BullMQ refuses ids containing `:`), so
 * retrying an enqueue can never create a second run for the same execution.
 */
export function runJobId(trigger: Exclude<Trigger, 'schedule'>, executionId: string): string {
  return `${trigger}-${executionId}`;
}

/** Deterministic BullMQ job id of one re-upload request (no `:`), so a retried enqueue is a no-op. */
export function reuploadJobId(executionId: string, requestedAt: number): string {
  return `reupload-${executionId}-${requestedAt}`;
}
