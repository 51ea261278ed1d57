import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '@cronbundle/redis';
import { parseCommandstats } from './stats';

export const ROOT = resolve(__dirname, '..', '..');
const REGISTER = join(ROOT, 'bench', 'register.js');

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` until it returns a value other than undefined/false, or throw after timeoutMs. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** VmRSS and VmHWM (peak) of a process in bytes, from /proc (Linux). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

export async function commandstats(redis: Redis): Promise<Record<string, number>> {
  return parseCommandstats(await redis.info('commandstats'));
}

/** CPU seconds (user + sys) the redis-server process has used. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const v = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return v('used_cpu_user') + v('used_cpu_sys');
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

export interface LogLine {
  msg?: string;
  time?: string;
  level?: string;
  [k: string]: unknown;
}

/**
 * A child process of the bench: a built app (`dist/apps/<app>/main.js`) or a bench script
 * (`bench/procs/*.ts`, through the swc hook). Keeps stdout/stderr lines; JSON log lines parsed.
 */
export class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly listeners = new Set<(line: string, at: number) => void>();

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    let partial = { out: '', err: '' };
    const feed = (key: 'out' | 'err') => (chunk: Buffer) => {
      const at = Date.now();
      const text = partial[key] + chunk.toString();
      const parts = text.split('\n');
      partial = { ...partial, [key]: parts.pop() ?? '' };
      for (const line of parts) {
        if (!line) continue;
        this.lines.push(line);
        if (this.lines.length > 5000) this.lines.splice(0, 1000);
        for (const l of this.listeners) l(line, at);
      }
    };
    child.stdout?.on('data', feed('out'));
    child.stderr?.on('data', feed('err'));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A built app: node dist/apps/<app>/main.js with a free HTTP port. */
  static async app(
    app: 'api' | 'scheduler' | 'worker',
    env: Record<string, string>,
    name: string = app,
    /** Node options such as --cpu-prof (not allowed in NODE_OPTIONS). */
    nodeArgs: string[] = [],
  ): Promise<Proc> {
    const port = await freePort();
    const portVar = app === 'api' ? { PORT: String(port) } : { HTTP_PORT: String(port) };
    const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'apps', app, 'main.js')], {
      env: { PATH: process.env.PATH ?? '', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...portVar, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Proc(name, child, port);
  }

  /** A bench script (TypeScript) with an IPC channel. */
  static async script(file: string, env: Record<string, string>, name = file, nodeArgs: string[] = []): Promise<Proc> {
    const port = await freePort();
    const child = spawn(process.execPath, [...nodeArgs, '-r', REGISTER, join(ROOT, 'bench', file)], {
      env: {
        PATH: process.env.PATH ?? '',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new Proc(name, child, port);
  }

  onLine(listener: (line: string, at: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolve with the first line (past or future) for which `match` returns a value, and when it arrived. */
  waitForLine<T>(
    match: (line: string) => T | undefined | false,
    what: string,
    timeoutMs = 30_000,
    includePast = true,
  ): Promise<{ value: T; at: number }> {
    if (includePast) {
      for (const line of this.lines) {
        const v = match(line);
        if (v !== undefined && v !== false) return Promise.resolve({ value: v as T, at: Date.now() });
      }
    }
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last output:\n${this.tail()}`));
      }, timeoutMs);
      const off = this.onLine((line, at) => {
        const v = match(line);
        if (v === undefined || v === false) return;
        clearTimeout(timer);
        off();
        resolvePromise({ value: v as T, at });
      });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        off();
        reject(new Error(`${this.name} exited (${code ?? signal}) before ${what}; last output:\n${this.tail()}`));
      });
    });
  }

  /** A JSON log line whose msg matches. */
  waitForLog(msg: string | RegExp, what = String(msg), timeoutMs = 30_000, includePast = true) {
    return this.waitForLine<LogLine>(
      (line) => {
        const log = parseLog(line);
        if (!log?.msg) return undefined;
        return (typeof msg === 'string' ? log.msg === msg : msg.test(log.msg)) ? log : undefined;
      },
      what,
      timeoutMs,
      includePast,
    );
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      async () => {
        if (this.child.exitCode !== null || this.child.signalCode !== null)
          throw new Error(`${this.name} exited before it was ready:\n${this.tail()}`);
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(
          () => undefined,
        );
        return res?.status === 200;
      },
      `${this.name} /health/ready`,
      timeoutMs,
      100,
    );
  }

  /** Ask a bench script over IPC; it answers `{ type: reply, ... }`. */
  request<T>(message: { type: string; [k: string]: unknown }, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`${this.name}: no reply to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: { type?: string }) => {
        if (m?.type !== `${message.type}:reply`) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolvePromise(m as T);
      };
      this.child.on('message', onMessage);
      this.child.send(message);
    });
  }

  memory(): { rss: number; peak: number } {
    return memoryOf(this.pid);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.child.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  tail(n = 20): string {
    return this.lines.slice(-n).join('\n');
  }
}

export function parseLog(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

/** Every process a scenario started, so a failure still stops them all. */
export class ProcSet {
  private readonly procs: Proc[] = [];
  add<P extends Proc>(p: P): P {
    this.procs.push(p);
    return p;
  }
  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop('SIGTERM', 5000).catch(() => p.kill())));
  }
}
