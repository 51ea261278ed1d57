import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../libs/redis/src/free-port';
import { waitFor } from './wait';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export type BuiltApp = 'api' | 'scheduler' | 'worker' | 'cli';

export function builtAppPath(app: BuiltApp): string {
  return join(REPO_ROOT, 'dist', 'apps', app, 'main.js');
}

export function assertBuilt(): void {
  const missing = (['api', 'scheduler', 'worker', 'cli'] as const).filter((a) => !existsSync(builtAppPath(a)));
  if (missing.length)
    throw new Error(`built apps missing (${missing.join(', ')}): run \`npm run build\` (npm test does it)`);
}

/** A built app (`node dist/apps/<app>/main.js`) running as a child process of the test. */
export class AppProcess {
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly app: BuiltApp,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Spawn the app on a free port with the given environment (added to a minimal base). */
  static async start(app: BuiltApp, env: Record<string, string>, args: string[] = []): Promise<AppProcess> {
    assertBuilt();
    const port = await freePort();
    const portVar = app === 'api' ? { PORT: String(port) } : { HTTP_PORT: String(port) };
    const child = spawn(process.execPath, [builtAppPath(app), ...args], {
      env: { PATH: process.env.PATH ?? '', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...portVar, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(app, port, child);
  }

  async get(path: string): Promise<Response> {
    return fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(3000) });
  }

  /** Wait until GET path answers `status` (default: /health/ready answers 200). */
  async waitForStatus(path = '/health/ready', status = 200, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        if (this.child.exitCode !== null)
          throw new Error(`${this.app} exited with ${this.child.exitCode}: ${this.tail()}`);
        return (await this.get(path).catch(() => undefined))?.status === status;
      },
      { timeoutMs, what: `${this.app} ${path} to answer ${status}`, intervalMs: 100 },
    );
  }

  /** Send a signal and wait for the exit, failing if it takes longer than timeoutMs. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 10_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = Date.now();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${this.app} did not exit within ${timeoutMs} ms of ${signal}: ${this.tail()}`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return { ...result, ms: Date.now() - started };
  }

  /** Last lines of output, for failure messages. */
  tail(lines = 15): string {
    return this.output.slice(-lines).join('\n');
  }

  /** For afterAll: make sure nothing outlives the test. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Run a built app to completion (for config errors and CLI commands). */
export function runBuiltApp(
  app: BuiltApp,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuilt();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [builtAppPath(app), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${app} ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
