import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { RunLock } from '@cronbundle/coordination';
import { ExecutionsModule } from '@cronbundle/executions';
import { QueueModule } from '@cronbundle/queue';
import { REDIS, RedisKeys } from '@cronbundle/redis';
import { RegistryModule } from '@cronbundle/registry';
import { ExecutionsController } from './executions.controller';
import { ExecutionsService } from './executions.service';

/** Trigger, history and cancel routes; the auth guard and the exception filter are global in the api. */
@Module({
  imports: [QueueModule, RegistryModule, ExecutionsModule],
  controllers: [ExecutionsController],
  providers: [
    ExecutionsService,
    {
      provide: RunLock,
      inject: [REDIS, RedisKeys, APP_CONFIG],
      useFactory: (r: Redis, k: RedisKeys, c: AppConfig) => new RunLock(r, k, c.instanceId),
    },
  ],
})
export class ExecutionsApiModule {}
