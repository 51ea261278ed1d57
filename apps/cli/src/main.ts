import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { join } from 'node:path';
import { collectCommand } from './collect/collect.command';
import { validateCommand } from './collect/validate.command';
import { upCommand } from './up/up.command';

const VERSION = '0.1.0';

export function buildProgram(appsDir: string): Command {
  const program = new Command('cronbundle')
    .description('Scheduled support bundles on Redis: collect, analyze, redact, bundle, upload, notify.')
    .version(VERSION)
    .showHelpAfterError('(run `cronbundle --help` for usage)')
    .exitOverride();
  program.addCommand(upCommand(appsDir));
  program.addCommand(collectCommand(VERSION));
  program.addCommand(validateCommand());
  return program;
}

async function main(): Promise<void> {
  // Built layout: dist/apps/cli/main.js next to dist/apps/{api,scheduler,worker}/main.js.
  const program = buildProgram(join(__dirname, '..'));
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    process.stderr.write(`cronbundle: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

void main();
