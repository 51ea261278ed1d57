export { ALL_QUEUES, QueueName } from './queue-names';
export { QueueModule } from './queue.module';
