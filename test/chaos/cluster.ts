import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from '../../libs/redis/src/free-port';
import { RedisServerProcess } from '../../libs/redis/src/redis-server.process';
import { builtAppPath, type BuiltApp } from '../support/app-process';
import { waitFor } from '../support/wait';

type ChaosApp = Exclude<BuiltApp, 'cli'>;
/** The apps' longest reconnect backoff (libs/redis RedisConnections) plus a margin. */
const REDIS_RECONNECT_MS = 2500;
const APPS: ChaosApp[] = ['api', 'scheduler', 'worker'];

/**
 * One process of the cluster, started from the run's own copy of the build: other engineers (and
 * CI steps) may rebuild dist/ while a long chaos run restarts processes, and every generation of a
 * process must run the code the run started with.
 */
class ChaosProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];

  constructor(
    readonly port: number,
    readonly child: ChildProcess,
    log: WriteStream,
  ) {
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        this.lines.push(...chunk.toString().split('\n').filter(Boolean));
        if (this.lines.length > 200) this.lines.splice(0, this.lines.length - 200);
      });
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    await waitFor(
      async () => {
        if (this.child.exitCode !== null) throw new Error(`exited with ${this.child.exitCode}: ${this.tail(10)}`);
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
        return res?.status === 200;
      },
      { timeoutMs, intervalMs: 100, what: `${this.url}/health/ready to answer 200` },
    );
  }

  async stop(
    signal: NodeJS.Signals,
    timeoutMs: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  tail(lines: number): string {
    return this.lines.slice(-lines).join('\n');
  }
}

export interface ClusterOptions {
  dir: string;
  prefix: string;
  leaseMs: number;
  schedulers: number;
  workers: number;
  workerConcurrency: number;
  /** Called with one line per lifecycle event (start, kill, restart). */
  log: (line: string) => void;
}

/** One role slot (scheduler-1, worker-2, api): the process currently filling it and its generation. */
interface Member {
  name: string;
  app: ChaosApp;
  generation: number;
  proc?: ChaosProcess;
  stopped: boolean;
}

/**
 * The chaos cluster: a private redis-server with AOF (`appendfsync everysec`), N schedulers,
 * M workers and the api, all as real processes from dist/apps. Every process's output goes to
 * `<dir>/logs/<instance>.log` for the post-mortem.
 */
export class ChaosCluster {
  redis!: RedisServerProcess;
  /** True from SHUTDOWN until the apps can have reconnected to the restarted server. */
  redisDown = false;
  readonly uploadDir: string;
  private readonly members = new Map<string, Member>();
  private readonly logs: WriteStream[] = [];

  constructor(readonly options: ClusterOptions) {
    this.uploadDir = join(options.dir, 'bundles');
    mkdirSync(this.uploadDir, { recursive: true });
    mkdirSync(join(options.dir, 'logs'), { recursive: true });
    mkdirSync(join(options.dir, 'redis'), { recursive: true });
    for (const app of APPS) {
      mkdirSync(join(options.dir, 'dist', app), { recursive: true });
      copyFileSync(builtAppPath(app), this.appPath(app));
    }
  }

  get api(): ChaosProcess {
    const proc = this.members.get('api')?.proc;
    if (!proc) throw new Error('the api is not running');
    return proc;
  }

  async start(): Promise<void> {
    this.redis = await RedisServerProcess.start({ appendonly: true, dir: join(this.options.dir, 'redis') });
    this.options.log(`redis-server on ${this.redis.url} (appendonly yes, appendfsync everysec)`);
    const names = [
      'api',
      ...Array.from({ length: this.options.schedulers }, (_, i) => `scheduler-${i + 1}`),
      ...Array.from({ length: this.options.workers }, (_, i) => `worker-${i + 1}`),
    ];
    for (const name of names) {
      const app: ChaosApp = name === 'api' ? 'api' : name.startsWith('scheduler') ? 'scheduler' : 'worker';
      this.members.set(name, { name, app, generation: 0, stopped: true });
    }
    await Promise.all(names.map((n) => this.launch(n)));
  }

  names(app: ChaosApp): string[] {
    return [...this.members.values()].filter((m) => m.app === app).map((m) => m.name);
  }

  /** The INSTANCE_ID of the member's current process, e.g. `scheduler-2.g3`. */
  instanceId(name: string): string {
    const m = this.member(name);
    return `${m.name}.g${m.generation}`;
  }

  memberOfInstance(instanceId: string): string | undefined {
    const name = instanceId.replace(/\.g\d+$/, '');
    return this.members.has(name) && this.instanceId(name) === instanceId ? name : undefined;
  }

  isRunning(name: string): boolean {
    return !this.member(name).stopped;
  }

  async launch(name: string): Promise<void> {
    const m = this.member(name);
    m.generation++;
    const instanceId = this.instanceId(name);
    const port = await freePort();
    const out = createWriteStream(join(this.options.dir, 'logs', `${instanceId}.log`));
    this.logs.push(out);
    const child = spawn(process.execPath, [this.appPath(m.app)], {
      env: { ...this.env(instanceId), ...(m.app === 'api' ? { PORT: String(port) } : { HTTP_PORT: String(port) }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new ChaosProcess(port, child, out);
    m.proc = proc;
    m.stopped = false;
    await proc.waitReady(30_000);
    this.options.log(`started ${instanceId} (pid ${proc.pid}, port ${proc.port})`);
  }

  async kill(name: string): Promise<void> {
    const m = this.member(name);
    if (!m.proc || m.stopped) return;
    m.stopped = true;
    const exit = await m.proc.stop('SIGKILL', 10_000);
    this.options.log(`SIGKILL ${this.instanceId(name)}: exited (${exit.signal ?? exit.code})`);
  }

  /** SIGSTOP for `ms`, then SIGCONT. */
  async pause(name: string, ms: number): Promise<void> {
    const proc = this.member(name).proc;
    if (!proc) return;
    proc.child.kill('SIGSTOP');
    this.options.log(`SIGSTOP ${this.instanceId(name)} for ${ms} ms`);
    await new Promise((r) => setTimeout(r, ms));
    proc.child.kill('SIGCONT');
    this.options.log(`SIGCONT ${this.instanceId(name)}`);
  }

  /** SHUTDOWN (Redis fsyncs the AOF and exits), down for `downMs`, then start on the same port and AOF. */
  async restartRedis(downMs: number): Promise<void> {
    const client = new Redis(this.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    client.on('error', () => undefined);
    this.redisDown = true;
    try {
      await client.connect();
      // SHUTDOWN never answers: the connection just closes.
      await client.call('SHUTDOWN').catch(() => undefined);
    } finally {
      client.disconnect();
    }
    const exited = await waitFor(() => this.redis.pid === undefined || !processAlive(this.redis.pid), {
      timeoutMs: 10_000,
      what: 'redis-server to exit after SHUTDOWN',
    }).catch(() => false);
    this.options.log(`redis SHUTDOWN${exited ? '' : ' (did not exit in 10 s)'}; down for ${downMs} ms`);
    await new Promise((r) => setTimeout(r, downMs));
    await this.redis.restart();
    this.options.log(`redis restarted on the same port and AOF (${this.redis.url})`);
    // The apps reconnect with a backoff of at most 2 s: until then they still see Redis as down.
    await new Promise((r) => setTimeout(r, REDIS_RECONNECT_MS));
    this.redisDown = false;
  }

  async stopAll(): Promise<void> {
    const running = [...this.members.values()].filter((m) => m.proc && !m.stopped);
    // Workers and schedulers first, api last (it reports what the others did).
    const order = (m: Member) => (m.app === 'api' ? 1 : 0);
    for (const group of [0, 1]) {
      await Promise.all(
        running
          .filter((m) => order(m) === group)
          .map(async (m) => {
            m.stopped = true;
            await m.proc!.stop('SIGTERM', 15_000);
          }),
      );
    }
    this.logs.forEach((l) => l.end());
    await this.redis?.stop({ keepDir: true });
  }

  /** Last lines of a member's output, for failure messages. */
  tail(name: string, lines = 20): string {
    return this.members.get(name)?.proc?.tail(lines) ?? '';
  }

  /** SIGKILL everything at once (Ctrl-C of the driver). */
  killAll(): void {
    for (const m of this.members.values()) if (m.proc && !m.stopped) m.proc.child.kill('SIGKILL');
    void this.redis?.stop({ keepDir: true });
  }

  private appPath(app: ChaosApp): string {
    return join(this.options.dir, 'dist', app, 'main.js');
  }

  private member(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new Error(`no cluster member ${name}`);
    return m;
  }

  private env(instanceId: string): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HTTP_HOST: '127.0.0.1',
      REDIS_URL: this.redis.url,
      CRONBUNDLE_PREFIX: this.options.prefix,
      INSTANCE_ID: instanceId,
      AUTH_DISABLED: 'true',
      UPLOAD_DEFAULT_URL: pathToFileURL(this.uploadDir).href + '/',
      COLLECT_ALLOW_RUN: 'true',
      WORKER_CONCURRENCY: String(this.options.workerConcurrency),
      LEADER_LEASE_MS: String(this.options.leaseMs),
      RUN_LOCK_MS: '5000',
      SHUTDOWN_GRACE_MS: '3000',
      LOG_LEVEL: 'warn',
    };
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
