import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalStack } from './stack';

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
}

export function upCommand(appsDir: string): Command {
  return new Command('up')
    .description('run the whole stack locally: embedded Redis (unless REDIS_URL is set), scheduler, workers and api')
    .option('--workers <n>', 'worker processes', positiveInt('--workers', 32), 1)
    .option(
      '--port <port>',
      'API port; the scheduler and workers take the next ports',
      positiveInt('--port', 65000),
      3000,
    )
    .option('--data-dir <dir>', 'where embedded Redis keeps its data', '.data/redis')
    .option('--bundles-dir <dir>', 'where bundles are written (unless UPLOAD_DEFAULT_URL is set)', '.data/bundles')
    .option('--jobs-dir <dir>', 'YAML job definitions to load', join(appsDir, '..', '..', 'examples', 'jobs'))
    .action(async (opts: { workers: number; port: number; dataDir: string; bundlesDir: string; jobsDir: string }) => {
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const stack = new LocalStack({
        workers: opts.workers,
        port: opts.port,
        appsDir,
        dataDir: resolve(opts.dataDir),
        bundlesDir: resolve(opts.bundlesDir),
        jobsDir: existsSync(opts.jobsDir) ? resolve(opts.jobsDir) : undefined,
        redisUrl: process.env.REDIS_URL || undefined,
        color,
        out: (line) => process.stdout.write(`${line}\n`),
      });
      let signalled = false;
      const shutdown = async (code: number) => {
        await stack.stop();
        process.exit(code);
      };
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.on(signal, () => {
          if (signalled) return;
          signalled = true;
          process.stdout.write(`\ncronbundle up: ${signal} received, stopping...\n`);
          void shutdown(0);
        });
      }
      void stack.crashed.then((app) => {
        if (signalled) return;
        signalled = true;
        process.stderr.write(
          `cronbundle up: ${app.name} exited unexpectedly (code ${app.child.exitCode}); stopping the stack\n`,
        );
        void shutdown(1);
      });
      try {
        await stack.start();
      } catch (err) {
        process.stderr.write(`cronbundle up: ${(err as Error).message}\n`);
        signalled = true;
        await shutdown(1);
        return;
      }
      const lines = stack.urls().map((u) => `  ${u.name.padEnd(20)} ${u.url}`);
      lines.push(`  ${'bundles'.padEnd(20)} ${resolve(opts.bundlesDir)}`);
      process.stdout.write(['', 'cronbundle is up:', ...lines, '', 'Press Ctrl-C to stop.', ''].join('\n') + '\n');
    });
}
