export { ALL_QUEUES, QueueName } from './queue-names';
export { QueueModule } from './queue.module';
export { JobName, QUEUE_OF, reuploadJobId, runJobId, scheduledForOf } from './payloads';
export type { JobItem, NotifyPayload, PayloadOf, ReuploadPayload, RunPayload } from './payloads';
export { repeatStrategy } from './repeat-strategy';
export type { CronRepeatOptions } from './repeat-strategy';
export { RunSchedulers, repeatOptionsOf, runJobOptions, schedulerRev } from './run-schedulers';
export type { RunSchedulerState, ScheduledRunData } from './run-schedulers';
