import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export const REDIS_MISSING_HELP =
  'redis-server was not found on PATH. Install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) or ' +
  '`brew install redis` (macOS), or start one with `docker compose up -d redis` and set REDIS_URL=redis://127.0.0.1:6379.';

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface RedisServerOptions {
  /** AOF persistence (appendfsync everysec), so a restart keeps the data. Default off for speed. */
  appendonly?: boolean;
  /** Data directory; a fresh temp dir (removed on stop) by default. */
  dir?: string;
  port?: number;
  /** Each line redis-server prints, e.g. to prefix and show them. */
  onLog?: (line: string) => void;
}

/**
 * A private `redis-server` child process: the embedded default of `cronbundle up` and the test
 * harness's Redis. Always `noeviction`, bound to 127.0.0.1.
 */
export class RedisServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
    private readonly ownsDir: boolean,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
    if (!redisServerAvailable()) throw new Error(REDIS_MISSING_HELP);
    const ownsDir = !options.dir;
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cronbundle-redis-'));
    mkdirSync(dir, { recursive: true });
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServerProcess(options.port ?? (await freePort()), dir, options, ownsDir);
      try {
        await server.launch();
        return server;
      } catch (err) {
        // Another process may have taken the port between freePort() and bind; try another.
        if (options.port || attempt >= 4) throw err;
      }
    }
  }

  /** Start again on the same port and data directory (AOF is replayed when it was on). */
  async restart(): Promise<void> {
    await this.stop({ keepDir: true });
    await this.launch();
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.appendonly ? 'yes' : 'no',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--protected-mode',
      'no',
      '--loglevel',
      'notice',
    ];
    // Its own process group: a Ctrl-C meant for `cronbundle up` must not stop Redis before the apps.
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        output += text;
        if (this.options.onLog)
          text
            .split('\n')
            .filter(Boolean)
            .forEach((l) => this.options.onLog!(l));
        if (/Ready to accept connections/.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited with ${code} before it was ready: ${output.trim().slice(-500)}`)),
      );
    });
    // "Ready to accept connections" is logged at notice level, the lowest we can listen at.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`redis-server on port ${this.port} was not ready within 10 s: ${output.trim().slice(-300)}`),
          ),
        10_000,
      );
    });
    try {
      await Promise.race([ready, deadline]);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM (redis saves AOF and exits); SIGKILL if it lingers. */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    if (!opts.keepDir && this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
