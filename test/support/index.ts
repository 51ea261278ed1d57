export { freePort } from './ports';
export { waitFor, withDeadline } from './wait';
export type { WaitOptions } from './wait';
export { RedisServer, REDIS_MISSING_HELP, redisServerAvailable } from './redis-server';
export type { RedisServerOptions } from './redis-server';
export { connectTestRedis, deletePrefix, testPrefix, testRedisUrl } from './redis';
