import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../libs/redis/src/free-port';
import { waitFor, withDeadline } from './wait';

export const POSTGRES_MISSING_HELP =
  'PostgreSQL server binaries (initdb, postgres) were not found under /usr/lib/postgresql/*/bin. ' +
  'Install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu).';

/** The newest `/usr/lib/postgresql/<version>/bin` holding initdb and postgres, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'))
    .find((bin) => existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres')));
}

/**
 * A private PostgreSQL server for integration tests: a fresh cluster in a temp dir on a free port,
 * bound to 127.0.0.1, password auth over TCP. initdb and postgres refuse to run as root, so when the
 * tests run as root both run as the `postgres` user (`runuser`). Throws (never skips) when the
 * binaries are missing, with the install command.
 */
export class PostgresServer {
  private exited!: Promise<void>;

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly user: string,
    readonly password: string,
    private readonly child: ChildProcess,
    /** What postgres printed, for failure messages. */
    readonly log: string[],
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** `postgresql://<user>:<password>@127.0.0.1:<port>/postgres`. */
  get uri(): string {
    return `postgresql://${this.user}:${this.password}@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<PostgresServer> {
    const bin = postgresBinDir();
    if (!bin) throw new Error(POSTGRES_MISSING_HELP);
    const asRoot = process.getuid?.() === 0;
    const dir = mkdtempSync(join(tmpdir(), 'cronbundle-pg-'));
    const run = (cmd: string, args: string[]): [string, string[]] =>
      asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    try {
      if (asRoot) {
        const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
        const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
        chownSync(dir, uid, gid);
      }
      chmodSync(dir, 0o700);
      const user = 'cronbundle';
      const password = randomBytes(12).toString('hex');
      const pwfile = join(dir, 'pwfile');
      writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
      if (asRoot) chownSync(pwfile, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), -1);
      const [initCmd, initArgs] = run(join(bin, 'initdb'), [
        '-D',
        join(dir, 'data'),
        '-U',
        user,
        `--pwfile=${pwfile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--no-sync',
        '-E',
        'UTF8',
      ]);
      try {
        execFileSync(initCmd, initArgs, { stdio: 'pipe' });
      } catch (err) {
        const e = err as { stderr?: Buffer; message: string };
        throw new Error(`initdb failed: ${e.stderr?.toString().trim() || e.message}`, { cause: err });
      }
      const port = await freePort();
      const [cmd, args] = run(join(bin, 'postgres'), [
        '-D',
        join(dir, 'data'),
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
      ]);
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const log: string[] = [];
      const collect = (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean));
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      const server = new PostgresServer(port, dir, user, password, child, log);
      await waitFor(
        async () => {
          if (child.exitCode !== null)
            throw new Error(`postgres exited with ${child.exitCode}: ${log.slice(-5).join(' | ')}`);
          const client = new Client({ connectionString: server.uri, connectionTimeoutMillis: 1000 });
          client.on('error', () => undefined);
          try {
            await client.connect();
            return true;
          } finally {
            await client.end().catch(() => undefined);
          }
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `postgres on port ${port} to accept connections` },
      ).catch(async (err) => {
        await server.stop();
        throw err;
      });
      return server;
    } catch (err) {
      if (existsSync(dir) && !existsSync(join(dir, 'data', 'postmaster.pid')))
        rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Fast shutdown (SIGINT to the postmaster), wait for it, remove the cluster. */
  async stop(): Promise<void> {
    const pidFile = join(this.dir, 'data', 'postmaster.pid');
    let pid: number | undefined;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    } catch {
      pid = undefined;
    }
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        if (pid) process.kill(pid, 'SIGINT');
        else this.child.kill('SIGINT');
      } catch {
        this.child.kill('SIGKILL');
      }
      await withDeadline(this.exited, 20_000, 'postgres to shut down').catch(() => {
        if (pid) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        this.child.kill('SIGKILL');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
