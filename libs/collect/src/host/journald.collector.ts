import { spawn } from 'node:child_process';
import { defineCollector } from '../framework/collector.types';
import type { HostCollectorSpec } from '../spec/collector-schemas';
import { parseGoDuration } from '../spec/duration';
import { findExecutable } from './host-services.collector';

export type JournaldSpec = HostCollectorSpec<'journald'>;

/** troubleshoot's default when the spec sets no `timeout`. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** Exit code troubleshoot records for a journalctl that ran out of time. */
const TIMEOUT_EXIT_CODE = '124';
const MAX_STDERR = 64 * 1024;

/**
 * journalctl's arguments for a spec, in troubleshoot's order (generateOptions); each value is its own
 * argv element, never parsed by a shell.
 */
export function journalctlArgs(spec: JournaldSpec): string[] {
  const args: string[] = [];
  if (spec.system) args.push('--system');
  if (spec.dmesg) args.push('--dmesg');
  for (const unit of spec.units ?? []) args.push('-u', unit);
  if (spec.since) args.push('--since', spec.since);
  if (spec.until) args.push('--until', spec.until);
  if (spec.output) args.push('--output', spec.output);
  if (spec.lines !== undefined && spec.lines > 0) args.push('-n', String(spec.lines));
  if (spec.reverse) args.push('--reverse');
  if (spec.utc) args.push('--utc');
  args.push('--no-pager');
  return args;
}

/**
 * troubleshoot's `journald` host collector: runs `journalctl` (found on the worker's PATH) and writes
 * `host-collectors/journald/<collectorName>.txt` (stdout), `<collectorName>-info.json`
 * (`{command, exitCode, error, outputDir, input, env}` as for `run`) and `<collectorName>-stderr.txt`
 * when journalctl wrote to stderr. Without journalctl the collector fails with its error file and the
 * run goes on.
 */
export const journaldCollector = defineCollector<JournaldSpec>({
  type: 'journald',
  scope: 'host',
  defaultTitle: 'journald',
  async collect(ctx) {
    const name = ctx.rawSpec.collectorName;
    if (!name) throw new Error('collectorName is required for journald collectors');
    const pathVar = ctx.policy.env.PATH;
    const journalctl = await findExecutable('journalctl', pathVar);
    if (!journalctl) throw new Error('journalctl not found on PATH: this host has no systemd journal to read');

    const specTimeout = ctx.spec.timeout ? parseGoDuration(ctx.spec.timeout)! : DEFAULT_TIMEOUT_MS;
    const timeoutMs = Math.max(1, Math.floor(Math.min(specTimeout, ctx.limits.timeoutMs)));
    const timeout = AbortSignal.timeout(timeoutMs);
    const args = journalctlArgs(ctx.spec);
    const child = spawn(journalctl, args, {
      signal: AbortSignal.any([ctx.signal, timeout]),
      stdio: ['ignore', 'pipe', 'pipe'],
      killSignal: 'SIGKILL',
      // Only what journalctl needs; the worker's environment holds credentials.
      env: {
        PATH: pathVar ?? '/usr/bin:/bin',
        LANG: 'C.UTF-8',
        SYSTEMD_PAGER: '',
        ...(ctx.policy.env.TZ ? { TZ: ctx.policy.env.TZ } : {}),
      },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_STDERR) stderr += d.slice(0, MAX_STDERR - stderr.length);
    });
    let spawnError: Error | undefined;
    const exited = new Promise<number | null>((resolve) => {
      child.on('error', (err) => {
        spawnError ??= err;
      });
      child.on('close', (code) => resolve(code));
    });
    const dir = 'host-collectors/journald';
    const written = ctx.output.addStream(`${dir}/${name}.txt`, child.stdout);
    written.catch(() => undefined);
    const code = await exited;
    await written;
    if (spawnError && !timeout.aborted) throw spawnError;

    let exitCode = String(code ?? -1);
    let error = '';
    if (timeout.aborted) {
      exitCode = TIMEOUT_EXIT_CODE;
      error = `command timed out after ${timeoutMs} ms`;
    } else if (code !== 0) error = stderr;
    await ctx.output.addJson(`${dir}/${name}-info.json`, {
      command: [journalctl, ...journalctlArgs(ctx.rawSpec)].join(' '),
      exitCode,
      error: ctx.scrub(error),
      outputDir: '',
      input: '',
      env: [],
    });
    if (stderr) await ctx.output.addFile(`${dir}/${name}-stderr.txt`, ctx.scrub(stderr));
  },
});
