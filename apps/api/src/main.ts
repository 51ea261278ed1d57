import 'reflect-metadata';
import { loadConfigOrExit } from '@cronbundle/config';
import { startHttpApp } from '@cronbundle/observability';
import { ApiModule } from './api.module';
import { configureApi } from './configure-api';

async function main(): Promise<void> {
  const config = loadConfigOrExit('api');
  await startHttpApp(
    config,
    (logger) => ApiModule.forRoot(config, logger),
    (app) => configureApi(app),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`cronbundle-api: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
