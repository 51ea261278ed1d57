import { BullBoardModule } from '@bull-board/nestjs';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { ConfigModule } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { AuditLog } from '@cronbundle/executions';
import { ObservabilityModule } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { ALL_QUEUES, QueueModule } from '@cronbundle/queue';
import { CoordinationModule } from '@cronbundle/coordination';
import { REDIS, RedisKeys, RedisModule } from '@cronbundle/redis';
import { RegistryModule } from '@cronbundle/registry';
import { BULL_BOARD_ROUTE } from './api.constants';
import { AuditController } from './audit/audit.controller';
import { ClusterController } from './cluster/cluster.controller';
import { ApiAuth } from './auth/api-auth';
import { apiAuthFromConfig, AuthModule } from './auth/auth.module';
import { bullBoardAuth } from './auth/bull-board-auth.middleware';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { JobsController } from './jobs/jobs.controller';
import { JobsDirectoryRunner } from './jobs/jobs-directory.runner';
import { JOB_PARSE_OPTIONS, JobsService } from './jobs/jobs.service';
import { ScheduleController } from './schedule/schedule.controller';
import { SpecsController } from './specs/specs.controller';
import { ExecutionsApiModule } from './executions/executions-api.module';

export { BULL_BOARD_ROUTE };

export interface ApiModuleOptions {
  /** Default: from config (AUTH_DISABLED / API_TOKENS_FILE); main.ts resolves it first to fail fast. */
  auth?: ApiAuth;
}

@Module({})
export class ApiModule {
  static forRoot(config: AppConfig, logger: Logger, options: ApiModuleOptions = {}): DynamicModule {
    const auth = options.auth ?? apiAuthFromConfig(config, logger);
    if (auth.disabled) {
      logger.warn('AUTH_DISABLED=true: the API takes every request as an anonymous admin; never expose it');
    }
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        ObservabilityModule.forRoot(logger),
        AuthModule.forRoot(auth),
        QueueModule,
        ExecutionsApiModule,
        // LeaderElector is only read here (GET /cluster); the api never runs for leadership.
        CoordinationModule.forRoot({ leaseMs: config.scheduler.leaseMs }),
        RegistryModule.forRoot({
          useValue: { ...JOB_PARSE_OPTIONS, defaultTimezone: config.scheduler.defaultTimezone },
        }),
        BullBoardModule.forRoot({ route: BULL_BOARD_ROUTE, adapter: ExpressAdapter, middleware: bullBoardAuth(auth) }),
        ...ALL_QUEUES.map((name) => BullBoardModule.forFeature({ name, adapter: BullMQAdapter })),
      ],
      controllers: [JobsController, ScheduleController, SpecsController, AuditController, ClusterController],
      providers: [
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: AuditLog, inject: [REDIS, RedisKeys], useFactory: (r: Redis, k: RedisKeys) => new AuditLog(r, k) },
        JobsService,
        JobsDirectoryRunner,
      ],
    };
  }
}
