import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { withDeadline } from './wait';

export const REDIS_MISSING_HELP =
  'redis-server was not found on PATH. Install it: `sudo apt-get install -y redis-server` (Debian/Ubuntu), ' +
  '`brew install redis` (macOS), or run `docker compose up -d redis` and set REDIS_URL. ' +
  '`npm test` installs it itself where apt-get is available.';

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface RedisServerOptions {
  /** AOF persistence (appendfsync everysec), so a restart keeps the data. Default off for speed. */
  appendonly?: boolean;
  /** Data directory; a fresh temp dir by default. Pass the same dir to `restart()` semantics. */
  dir?: string;
  port?: number;
}

/** A private `redis-server` process owned by a test (or by the jest global setup). */
export class RedisServer {
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

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    if (!redisServerAvailable()) throw new Error(REDIS_MISSING_HELP);
    const ownsDir = !options.dir;
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cronbundle-redis-'));
    mkdirSync(dir, { recursive: true });
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(options.port ?? (await freePort()), dir, options, ownsDir);
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
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--save', '',
      '--appendonly', this.options.appendonly ? 'yes' : 'no',
      '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction',
      '--protected-mode', 'no',
      '--loglevel', 'notice',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/Ready to accept connections/.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready: ${output.trim().slice(-500)}`)));
    });
    // "Ready to accept connections" is logged at notice level, the lowest we can listen at.
    await withDeadline(ready, 10_000, `redis-server on port ${this.port}`);
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
