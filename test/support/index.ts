export { freePort } from '@cronbundle/redis';
export { waitFor, withDeadline } from './wait';
export type { WaitOptions } from './wait';
export { RedisServerProcess as RedisServer, REDIS_MISSING_HELP, redisServerAvailable } from '@cronbundle/redis';
export type { RedisServerOptions } from '@cronbundle/redis';
export { connectTestRedis, deletePrefix, testPrefix, testRedisUrl } from './redis';
export { AppProcess, assertBuilt, builtAppPath, REPO_ROOT, runBuiltApp } from './app-process';
export type { BuiltApp } from './app-process';
