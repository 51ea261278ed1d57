export { ALL_QUEUES, QueueName } from './queue-names';
export { QueueModule } from './queue.module';
export { JobName, QUEUE_OF, runJobId, scheduledForOf } from './payloads';
export type { JobItem, NotifyPayload, PayloadOf, RunPayload } from './payloads';
