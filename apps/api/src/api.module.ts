import { BullBoardModule } from '@bull-board/nestjs';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@cronbundle/config';
import { Logger, ObservabilityModule } from '@cronbundle/observability';
import { ALL_QUEUES, QueueModule } from '@cronbundle/queue';
import { RedisModule } from '@cronbundle/redis';

export const BULL_BOARD_ROUTE = '/admin/queues';

@Module({})
export class ApiModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        ObservabilityModule.forRoot(logger),
        QueueModule,
        BullBoardModule.forRoot({ route: BULL_BOARD_ROUTE, adapter: ExpressAdapter }),
        ...ALL_QUEUES.map((name) => BullBoardModule.forFeature({ name, adapter: BullMQAdapter })),
      ],
    };
  }
}
