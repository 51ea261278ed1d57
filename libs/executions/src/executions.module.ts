import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisKeys } from '@cronbundle/redis';
import { AuditLog } from './audit-log';
import { ExecutionStore } from './execution-store';

/** ExecutionStore and AuditLog on the app's shared Redis connection (RedisModule is global). */
@Module({
  providers: [
    {
      provide: ExecutionStore,
      inject: [REDIS, RedisKeys],
      useFactory: (r: Redis, k: RedisKeys) => new ExecutionStore(r, k),
    },
    { provide: AuditLog, inject: [REDIS, RedisKeys], useFactory: (r: Redis, k: RedisKeys) => new AuditLog(r, k) },
  ],
  exports: [ExecutionStore, AuditLog],
})
export class ExecutionsModule {}
