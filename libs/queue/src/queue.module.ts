import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { RedisConnections, RedisKeys } from '@cronbundle/redis';
import { QueueErrorListener } from './queue-errors';
import { ALL_QUEUES } from './queue-names';
import { repeatStrategy } from './repeat-strategy';
import { RunSchedulers } from './run-schedulers';

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
        // Slots of job schedulers follow libs/core's cron maths (DST policy), on every process.
        settings: { repeatStrategy },
      }),
    }),
    BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
  ],
  providers: [RunSchedulers, QueueErrorListener],
  exports: [BullModule, RunSchedulers],
})
export class QueueModule {}
