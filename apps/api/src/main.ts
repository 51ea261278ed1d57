import 'reflect-metadata';
import { ConfigError, loadConfigOrExit } from '@cronbundle/config';
import { startHttpApp } from '@cronbundle/observability';
import { ApiModule } from './api.module';
import { apiAuthFromConfig } from './auth/auth.module';
import { TokenFileError } from './auth/token-store';
import { ApiAuth } from './auth/api-auth';
import { configureApi } from './configure-api';

/** Auth problems are configuration problems: one line, exit 78, before anything connects. */
function loadAuthOrExit(config: ReturnType<typeof loadConfigOrExit>): ApiAuth {
  try {
    return apiAuthFromConfig(config);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TokenFileError) {
      process.stderr.write(`cronbundle-api: invalid configuration: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit('api');
  const auth = loadAuthOrExit(config);
  await startHttpApp(
    config,
    (logger) => ApiModule.forRoot(config, logger, { auth }),
    (app) => configureApi(app),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`cronbundle-api: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
