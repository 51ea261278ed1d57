import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@cronbundle/config';
import { Logger, ObservabilityModule } from '@cronbundle/observability';
import { QueueModule } from '@cronbundle/queue';
import { RedisModule } from '@cronbundle/redis';

@Module({})
export class SchedulerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [ConfigModule.forRoot(config), RedisModule, ObservabilityModule.forRoot(logger), QueueModule],
    };
  }
}
