import { DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG, ConfigModule } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { RunLock } from '@cronbundle/coordination';
import { ExecutionsModule } from '@cronbundle/executions';
import { ObservabilityModule } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { QueueModule } from '@cronbundle/queue';
import { REDIS, RedisKeys, RedisModule } from '@cronbundle/redis';
import type { Redis } from 'ioredis';
import { RegistryModule } from '@cronbundle/registry';
import { Uploaders } from '@cronbundle/upload';
import { WorkerHeartbeat } from './heartbeat.service';
import { SummaryBundleStage } from './pipeline/bundle.stage';
import { BundleCollectStage } from './pipeline/collect.stage';
import { NoopAnalyzeStage, NoopNotifyStage, NoopRedactStage } from './pipeline/noop.stages';
import {
  ANALYZE_STAGE,
  BUNDLE_STAGE,
  COLLECT_STAGE,
  NOTIFY_STAGE,
  REDACT_STAGE,
  UPLOAD_STAGE,
} from './pipeline/pipeline.types';
import { RunPipeline } from './pipeline/run-pipeline';
import { DestinationUploadStage } from './pipeline/upload.stage';
import { CancelListener } from './run/cancel-listener';
import { DependencyTrigger } from './run/dependency-trigger';
import { OverlapGuard } from './run/overlap-guard';
import { ReuploadHandler } from './run/reupload-handler';
import { RunLockWaiter } from './run/run-lock-waiter';
import { RunProcessor } from './run/run-processor';
import { RunRunner } from './run/run-runner';
import { WorkerMetrics } from './run/worker.metrics';

@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        ObservabilityModule.forRoot(logger),
        QueueModule,
        RegistryModule,
        ExecutionsModule,
      ],
      providers: [
        { provide: COLLECT_STAGE, useClass: BundleCollectStage },
        { provide: ANALYZE_STAGE, useClass: NoopAnalyzeStage },
        { provide: REDACT_STAGE, useClass: NoopRedactStage },
        { provide: BUNDLE_STAGE, useClass: SummaryBundleStage },
        { provide: UPLOAD_STAGE, useClass: DestinationUploadStage },
        { provide: NOTIFY_STAGE, useClass: NoopNotifyStage },
        { provide: Uploaders, useValue: new Uploaders() },
        // RunLock alone: the worker takes no part in leader election.
        {
          provide: RunLock,
          inject: [REDIS, RedisKeys, APP_CONFIG],
          useFactory: (r: Redis, k: RedisKeys, c: AppConfig) => new RunLock(r, k, c.instanceId),
        },
        RunPipeline,
        WorkerMetrics,
        CancelListener,
        RunLockWaiter,
        OverlapGuard,
        DependencyTrigger,
        RunRunner,
        ReuploadHandler,
        RunProcessor,
        WorkerHeartbeat,
      ],
    };
  }
}
