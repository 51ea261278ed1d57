import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { RedisConnections } from './redis-connections';
import { RedisKeys } from './redis-keys';
import { inspectRedisPolicy } from './redis-policy';

/** Token of the shared command connection (`Redis` from ioredis). */
export const REDIS = Symbol('REDIS');

@Injectable()
export class RedisLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('redis');

  constructor(
    private readonly connections: RedisConnections,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** Warn (not fail) on a risky Redis setup: the process stays useful while the operator fixes it. */
  onApplicationBootstrap(): void {
    void inspectRedisPolicy(this.redis)
      .then((r) => r.warnings.forEach((w) => this.logger.warn(w)))
      .catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connections.closeAll();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: RedisConnections,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new RedisConnections({ url: config.redis.url, name: `cronbundle-${config.app}:${config.instanceId}` }),
    },
    { provide: RedisKeys, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new RedisKeys(config.prefix) },
    { provide: REDIS, inject: [RedisConnections], useFactory: (c: RedisConnections) => c.create('command') },
    RedisLifecycle,
  ],
  exports: [RedisConnections, RedisKeys, REDIS],
})
export class RedisModule {}
