import 'reflect-metadata';
import { loadConfigOrExit } from '@cronbundle/config';
import { startHttpApp } from '@cronbundle/observability';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit('worker');
  await startHttpApp(config, (logger) => WorkerModule.forRoot(config, logger));
}

main().catch((err: unknown) => {
  process.stderr.write(`cronbundle-worker: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
