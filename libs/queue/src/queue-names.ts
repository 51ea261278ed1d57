/**
 * BullMQ queue names. DO NOT RENAME a shipped value: jobs already in Redis live under the old
 * name and would be orphaned.
 */
export enum QueueName {
  /** One BullMQ job per run of a job definition (scheduled, catch-up, manual or dependency). */
  Runs = 'runs',
  /** Outgoing notifications (webhooks), retried independently of the run that caused them. */
  Notifications = 'notifications',
}

export const ALL_QUEUES: readonly QueueName[] = [QueueName.Runs, QueueName.Notifications];
