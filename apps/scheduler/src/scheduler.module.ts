import { DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG, ConfigModule } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { CoordinationModule } from '@cronbundle/coordination';
import { ExecutionsModule } from '@cronbundle/executions';
import { ObservabilityModule } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { QueueModule } from '@cronbundle/queue';
import { RedisModule } from '@cronbundle/redis';
import { RegistryModule } from '@cronbundle/registry';
import { Reconciler } from './reconciler.service';
import { SchedulerMetrics } from './scheduler.metrics';
import { SchedulerService } from './scheduler.service';
import { SlotAccountant } from './slot-accountant.service';

@Module({})
export class SchedulerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        ObservabilityModule.forRoot(logger),
        QueueModule,
        CoordinationModule.forRoot({ leaseMs: config.scheduler.leaseMs }),
        RegistryModule.forRoot({
          inject: [APP_CONFIG],
          useFactory: (c: AppConfig) => ({ defaultTimezone: c.scheduler.defaultTimezone }),
        }),
        ExecutionsModule,
      ],
      providers: [SchedulerMetrics, Reconciler, SlotAccountant, SchedulerService],
    };
  }
}
