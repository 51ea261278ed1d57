import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ConfigError } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import type { Logger } from '@cronbundle/observability';
import { ApiAuth } from './api-auth';
import { ApiAuthGuard } from './auth.guard';
import { TokenStore } from './token-store';

/**
 * ApiAuth from the config: AUTH_DISABLED=true, else the tokens of API_TOKENS_FILE.
 * Throws ConfigError / TokenFileError (one line) when auth is on and the file is missing or bad.
 */
export function apiAuthFromConfig(config: AppConfig, logger?: Logger): ApiAuth {
  if (config.api.authDisabled) return ApiAuth.disabled();
  if (!config.api.tokensFile) {
    throw new ConfigError([{ variable: 'API_TOKENS_FILE', message: 'is required unless AUTH_DISABLED=true' }]);
  }
  const tokens = TokenStore.fromFile(config.api.tokensFile);
  if (tokens.size === 0) logger?.warn('API_TOKENS_FILE lists no tokens: every API request will be refused');
  return ApiAuth.withTokens(tokens);
}

/** Global, so any controller (e.g. executions) gets the guard and can inject ApiAuth. */
@Global()
@Module({})
export class AuthModule {
  static forRoot(auth: ApiAuth): DynamicModule {
    return {
      module: AuthModule,
      providers: [
        { provide: ApiAuth, useValue: auth },
        ApiAuthGuard,
        { provide: APP_GUARD, useExisting: ApiAuthGuard },
      ],
      exports: [ApiAuth, ApiAuthGuard],
    };
  }
}
