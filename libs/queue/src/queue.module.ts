import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { RedisConnections, RedisKeys } from '@cronbundle/redis';
import { ALL_QUEUES } from './queue-names';

/**
 * BullMQ's connection and prefix for the whole process, and a producer `Queue` per queue name,
 * injectable with `@InjectQueue(QueueName.Runs)`. BullMQ is configured here and nowhere else.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [RedisConnections, RedisKeys],
      useFactory: (connections: RedisConnections, keys: RedisKeys) => ({
        connection: connections.create('bullmq', 'queues'),
        prefix: keys.bullPrefix,
      }),
    }),
    BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
  ],
  exports: [BullModule],
})
export class QueueModule {}
