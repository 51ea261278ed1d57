import { BeforeApplicationShutdown, DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { REDIS, RedisConnections, RedisKeys } from '@cronbundle/redis';
import { FencedWriter } from './fenced-writer';
import { DEFAULT_LEADER_LEASE_MS, LeaderElector } from './leader-elector';
import { RunLock } from './run-lock';

export interface CoordinationModuleOptions {
  /** LEADER_LEASE_MS; default 5000. */
  leaseMs?: number;
}

@Injectable()
class CoordinationLifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(LeaderElector) private readonly elector: LeaderElector) {}

  /** Before Redis connections close (onApplicationShutdown), so the release reaches Redis. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.elector.stop();
  }
}

/**
 * Provides LeaderElector (not started: the scheduler starts it), FencedWriter and RunLock on the
 * shared connection of @cronbundle/redis. Any app may read `currentLeader()` without starting.
 */
@Module({})
export class CoordinationModule {
  static forRoot(options: CoordinationModuleOptions = {}): DynamicModule {
    return {
      module: CoordinationModule,
      providers: [
        {
          provide: LeaderElector,
          inject: [REDIS, RedisKeys, RedisConnections, APP_CONFIG],
          useFactory: (redis: Redis, keys: RedisKeys, connections: RedisConnections, config: AppConfig) =>
            new LeaderElector({
              redis,
              keys,
              instanceId: config.instanceId,
              leaseMs: options.leaseMs ?? DEFAULT_LEADER_LEASE_MS,
              subscriber: () => connections.create('command', 'leader-sub'),
            }),
        },
        {
          provide: FencedWriter,
          inject: [REDIS, RedisKeys],
          useFactory: (r: Redis, k: RedisKeys) => new FencedWriter(r, k),
        },
        {
          provide: RunLock,
          inject: [REDIS, RedisKeys, APP_CONFIG],
          useFactory: (r: Redis, k: RedisKeys, config: AppConfig) => new RunLock(r, k, config.instanceId),
        },
        CoordinationLifecycle,
      ],
      exports: [LeaderElector, FencedWriter, RunLock],
    };
  }
}
