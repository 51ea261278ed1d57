import { spawn } from 'node:child_process';
import { defineCollector } from '../framework/collector.types';
import type { HostCollectorSpec } from '../spec/collector-schemas';
import { parseGoDuration } from '../spec/duration';

/**
 * Parent variables a command gets by default. troubleshoot passes the whole environment; a worker's
 * environment holds Redis and upload credentials, so we pass only these plus `inheritEnvs`.
 */
const SAFE_PARENT_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR'];

export const runCollector = defineCollector<HostCollectorSpec<'run'>>({
  type: 'run',
  scope: 'host',
  defaultTitle: 'Run Host',
  async collect(ctx) {
    if (!ctx.policy.allowRun) throw new Error('run collectors are disabled (allowRun is false)');
    const name = ctx.rawSpec.collectorName || 'run-host';
    const dir = 'host-collectors/run-host';
    const names = ctx.spec.ignoreParentEnvs
      ? (ctx.spec.inheritEnvs ?? [])
      : [...SAFE_PARENT_ENV, ...(ctx.spec.inheritEnvs ?? [])];
    const env: Record<string, string> = {};
    for (const key of names) {
      const value = ctx.policy.env[key];
      if (value !== undefined) env[key] = value;
    }
    for (const pair of ctx.spec.env ?? []) {
      const at = pair.indexOf('=');
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const specTimeout = ctx.spec.timeout ? parseGoDuration(ctx.spec.timeout)! : Number.POSITIVE_INFINITY;
    const timeoutMs = Math.min(specTimeout, ctx.limits.timeoutMs);
    const timeout = AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)));
    const signal = AbortSignal.any([ctx.signal, timeout]);

    const child = spawn(ctx.spec.command, ctx.spec.args ?? [], {
      env,
      signal,
      stdio: ['ignore', 'pipe', 'pipe'],
      killSignal: 'SIGKILL',
    });
    let spawnError: Error | undefined;
    const exited = new Promise<number | null>((resolve) => {
      child.on('error', (err) => {
        spawnError ??= err;
      });
      child.on('close', (code) => resolve(code));
    });
    const outputs = Promise.allSettled([
      ctx.output.addStream(`${dir}/${name}.txt`, child.stdout),
      ctx.output.addStream(`${dir}/${name}-stderr.txt`, child.stderr, undefined, { omitIfEmpty: true }),
    ]);
    const code = await exited;
    const written = await outputs;

    let error = '';
    if (timeout.aborted) error = `command timed out after ${timeoutMs} ms`;
    else if (spawnError && !ctx.signal.aborted) error = spawnError.message;
    else if (code !== 0) error = `exit status ${code}`;
    await ctx.output.addJson(`${dir}/${name}-info.json`, {
      command: [ctx.rawSpec.command, ...(ctx.rawSpec.args ?? [])].join(' '),
      exitCode: String(code ?? -1),
      error: ctx.scrub(error),
      outputDir: ctx.rawSpec.outputDir ?? '',
      input: '',
      env: ctx.rawSpec.env ?? [],
    });
    const failedWrite = written.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failedWrite) throw failedWrite.reason;
    // A non-zero exit is data (info.json says so); not being able to run the command is a failure.
    if (timeout.aborted || spawnError) throw new Error(error || spawnError!.message);
  },
});
