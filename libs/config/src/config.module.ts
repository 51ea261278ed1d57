import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './config.schema';

/** Injection token of the validated AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** The config is parsed in main.ts before Nest starts, so a bad value never half-boots the app. */
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
