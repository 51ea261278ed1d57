export { RedisKeys } from './redis-keys';
export { RedisConnections } from './redis-connections';
export type { RedisConnectionSettings, RedisRole } from './redis-connections';
export { inspectRedisPolicy } from './redis-policy';
export type { RedisPolicyReport } from './redis-policy';
export { REDIS, RedisModule } from './redis.module';
export { freePort } from './free-port';
export { RedisServerProcess, REDIS_MISSING_HELP, redisServerAvailable } from './redis-server.process';
export type { RedisServerOptions } from './redis-server.process';
