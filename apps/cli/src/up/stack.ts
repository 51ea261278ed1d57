import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REDIS_MISSING_HELP, RedisServerProcess, redisServerAvailable } from '@cronbundle/redis';
import { prefixFor, renderLogLine } from './log-lines';

export interface StackOptions {
  workers: number;
  /** API port; the scheduler takes port+1 and workers port+2, port+3, ... for health and metrics. */
  port: number;
  /** Folder of the built apps (`dist/apps`). */
  appsDir: string;
  /** Where embedded Redis keeps its AOF (`.data/redis`). */
  dataDir: string;
  /** Job definitions loaded by the api (JOBS_DIR); `examples/jobs` by default. */
  jobsDir?: string;
  /** Where bundles are written (UPLOAD_DEFAULT_URL=file://...): `.data/bundles`. */
  bundlesDir: string;
  /** Redis to use instead of starting one (REDIS_URL from the environment). */
  redisUrl?: string;
  color: boolean;
  out: (line: string) => void;
  /** How long to wait for every app to report ready. */
  readyTimeoutMs?: number;
}

interface AppProcess {
  name: string;
  app: 'api' | 'scheduler' | 'worker';
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** The local stack of `cronbundle up`: embedded Redis, one scheduler, N workers and the api as child processes. */
export class LocalStack {
  private redis?: RedisServerProcess;
  private readonly apps: AppProcess[] = [];
  private stopping?: Promise<void>;
  private readonly width: number;
  /** Resolves when a child exits while the stack was not stopping (a crash). */
  readonly crashed: Promise<AppProcess>;
  private onCrash!: (p: AppProcess) => void;

  constructor(private readonly options: StackOptions) {
    this.width = Math.max('scheduler'.length, `worker-${options.workers}`.length);
    this.crashed = new Promise((resolve) => (this.onCrash = resolve));
  }

  get redisUrl(): string {
    return this.options.redisUrl ?? this.redis!.url;
  }

  async start(): Promise<void> {
    if (!this.options.redisUrl) {
      if (!redisServerAvailable()) throw new Error(REDIS_MISSING_HELP);
      mkdirSync(this.options.dataDir, { recursive: true });
      const prefix = prefixFor('redis', 5, this.width, this.options.color);
      this.redis = await RedisServerProcess.start({
        appendonly: true,
        dir: this.options.dataDir,
        onLog: (line) => {
          // redis-server's start-up banner is noise here; keep warnings and errors.
          if (
            / # |WARNING|rror/.test(line) &&
            !/oO0OoO0OoO0Oo|Redis version=|Configuration loaded|Server initialized|overcommit|User requested|ready to exit/.test(
              line,
            )
          ) {
            this.options.out(`${prefix} ${line}`);
          }
        },
      });
      this.options.out(
        `${prefix} embedded redis-server on ${this.redis.url} (AOF on, data in ${this.options.dataDir})`,
      );
    }
    const { port } = this.options;
    this.spawnApp('scheduler', 'scheduler', port + 1);
    for (let i = 1; i <= this.options.workers; i++) this.spawnApp(`worker-${i}`, 'worker', port + 1 + i);
    this.spawnApp('api', 'api', port);
    await this.waitReady();
  }

  urls(): { name: string; url: string }[] {
    const api = `http://127.0.0.1:${this.options.port}`;
    return [
      { name: 'API', url: `${api}/api/v1` },
      { name: 'Bull Board', url: `${api}/admin/queues` },
      { name: 'API docs', url: `${api}/docs` },
      ...this.apps.map((a) => ({ name: `${a.name} metrics`, url: `http://127.0.0.1:${a.port}/metrics` })),
    ];
  }

  private spawnApp(name: string, app: AppProcess['app'], port: number): void {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: this.redisUrl,
      HTTP_HOST: '127.0.0.1',
      INSTANCE_ID: `${name}-${process.pid}`,
      // The embedded default is a local, single-user stack (ARCHITECTURE.md §6 allows this only here).
      AUTH_DISABLED: process.env.API_TOKENS_FILE ? 'false' : 'true',
      UPLOAD_DEFAULT_URL: process.env.UPLOAD_DEFAULT_URL || pathToFileURL(this.options.bundlesDir).href,
      ...(this.options.jobsDir && !process.env.JOBS_DIR ? { JOBS_DIR: this.options.jobsDir } : {}),
      ...(app === 'api' ? { PORT: String(port) } : { HTTP_PORT: String(port) }),
    };
    const child = spawn(process.execPath, [join(this.options.appsDir, app, 'main.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: Ctrl-C reaches only `up`, which stops the apps first and Redis last.
      detached: true,
    });
    const prefix = prefixFor(name, this.apps.length, this.width, this.options.color);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) =>
        this.options.out(`${prefix} ${renderLogLine(line, this.options.color)}`),
      );
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const proc: AppProcess = { name, app, port, child, exited };
    void exited.then(() => {
      if (!this.stopping) this.onCrash(proc);
    });
    this.apps.push(proc);
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 30_000);
    const pending = new Set(this.apps);
    while (pending.size) {
      for (const app of [...pending]) {
        if (app.child.exitCode !== null)
          throw new Error(`${app.name} exited with code ${app.child.exitCode} while starting`);
        const ok = await fetch(`http://127.0.0.1:${app.port}/health/ready`, { signal: AbortSignal.timeout(1000) })
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) pending.delete(app);
      }
      if (!pending.size) break;
      if (Date.now() > deadline) {
        throw new Error(
          `not ready after ${this.options.readyTimeoutMs ?? 30_000} ms: ${[...pending].map((a) => a.name).join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM every app, wait for them (SIGKILL after 12 s), then stop Redis so its AOF is flushed. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(
        this.apps.map(async (a) => {
          if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGTERM');
          const timer = setTimeout(() => a.child.kill('SIGKILL'), 12_000);
          await a.exited;
          clearTimeout(timer);
        }),
      );
      await this.redis?.stop({ keepDir: true });
    })();
    return this.stopping;
  }

  exitCodes(): Record<string, number | null> {
    return Object.fromEntries(this.apps.map((a) => [a.name, a.child.exitCode]));
  }
}
