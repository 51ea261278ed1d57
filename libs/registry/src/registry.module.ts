import { DynamicModule, InjectionToken, Module, Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisConnections, RedisKeys } from '@cronbundle/redis';
import { JobRegistry, JobRegistryOptions } from './job-registry';

/** Token of the JobRegistryOptions (default time zone, spec validator); optional. */
export const JOB_REGISTRY_OPTIONS = Symbol('JOB_REGISTRY_OPTIONS');

const registryProvider: Provider = {
  provide: JobRegistry,
  inject: [REDIS, RedisKeys, RedisConnections, { token: JOB_REGISTRY_OPTIONS, optional: true }],
  useFactory: (redis: Redis, keys: RedisKeys, connections: RedisConnections, options?: JobRegistryOptions) =>
    new JobRegistry(redis, keys, {
      createSubscriber: () => connections.create('command', 'registry-events'),
      ...options,
    }),
};

export interface RegistryModuleOptions {
  useValue?: JobRegistryOptions;
  useFactory?: (...args: never[]) => JobRegistryOptions | Promise<JobRegistryOptions>;
  inject?: InjectionToken[];
}

/** JobRegistry on the app's Redis (RedisModule must be imported, it is global). */
@Module({ providers: [registryProvider], exports: [JobRegistry] })
export class RegistryModule {
  /** With options, e.g. `{ inject: [APP_CONFIG], useFactory: (c) => ({ defaultTimezone: ... }) }`. */
  static forRoot(options: RegistryModuleOptions): DynamicModule {
    const optionsProvider: Provider = options.useFactory
      ? { provide: JOB_REGISTRY_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }
      : { provide: JOB_REGISTRY_OPTIONS, useValue: options.useValue ?? {} };
    return { module: RegistryModule, providers: [optionsProvider, registryProvider], exports: [JobRegistry] };
  }
}
