import 'reflect-metadata';
import { loadConfigOrExit } from '@cronbundle/config';
import { startHttpApp } from '@cronbundle/observability';
import { SchedulerModule } from './scheduler.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit('scheduler');
  await startHttpApp(config, (logger) => SchedulerModule.forRoot(config, logger));
}

main().catch((err: unknown) => {
  process.stderr.write(`cronbundle-scheduler: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
