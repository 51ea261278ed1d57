import { DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { RedisConnections } from '@cronbundle/redis';
import { HealthController, MetricsController, REDIS_PROBE } from './health.controller';
import { Logger } from './logger';
import { Metrics } from './metrics';

/** Token of the process's pino logger. */
export const LOGGER = Symbol('LOGGER');

/** `/health/live`, `/health/ready`, `/metrics`, the metrics registry and the logger, for every app. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: Metrics, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new Metrics({ app: c.app }) },
        { provide: REDIS_PROBE, inject: [RedisConnections], useFactory: (c: RedisConnections) => c.create('probe') },
      ],
      exports: [LOGGER, Metrics],
    };
  }
}
