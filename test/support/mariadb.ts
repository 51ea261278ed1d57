import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { freePort } from '../../libs/redis/src/free-port';
import { waitFor, withDeadline } from './wait';

export const MARIADB_MISSING_HELP =
  'MariaDB server binaries (mariadbd, mariadb-install-db) were not found. ' +
  'Install them with `sudo apt-get install -y mariadb-server` (Debian/Ubuntu).';

function findBinary(names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  for (const name of names) for (const dir of dirs) if (dir && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/**
 * A private MariaDB server for integration tests: `mariadb-install-db` into a temp dir, `mariadbd`
 * on a free port bound to 127.0.0.1 (as root when the tests run as root, via `--user=root`), and a
 * user `cronbundle` with a random password. Throws (never skips) when the binaries are missing.
 */
export class MariaDbServer {
  private readonly exited: Promise<void>;

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly user: string,
    readonly password: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** `mysql://<user>:<password>@127.0.0.1:<port>/mysql`. */
  get uri(): string {
    return `mysql://${this.user}:${this.password}@127.0.0.1:${this.port}/mysql`;
  }

  static async start(): Promise<MariaDbServer> {
    const server = findBinary(['mariadbd', 'mysqld']);
    const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
    if (!server || !installDb) throw new Error(MARIADB_MISSING_HELP);
    const dir = mkdtempSync(join(tmpdir(), 'cronbundle-mariadb-'));
    const user = process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'root');
    try {
      try {
        execFileSync(
          installDb,
          [
            '--no-defaults',
            `--datadir=${join(dir, 'data')}`,
            `--user=${user}`,
            '--auth-root-authentication-method=normal',
            '--skip-test-db',
          ],
          { stdio: 'pipe' },
        );
      } catch (err) {
        const e = err as { stderr?: Buffer; message: string };
        throw new Error(`mariadb-install-db failed: ${e.stderr?.toString().trim() || e.message}`, { cause: err });
      }
      const port = await freePort();
      const errorLog = join(dir, 'error.log');
      const child = spawn(
        server,
        [
          '--no-defaults',
          `--user=${user}`,
          `--datadir=${join(dir, 'data')}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          `--socket=${join(dir, 'mysqld.sock')}`,
          `--pid-file=${join(dir, 'mysqld.pid')}`,
          `--log-error=${errorLog}`,
          '--skip-name-resolve',
          '--skip-log-bin',
          '--innodb-buffer-pool-size=16M',
          '--innodb-log-file-size=8M',
        ],
        { stdio: 'ignore' },
      );
      const password = randomBytes(12).toString('hex');
      const instance = new MariaDbServer(port, dir, 'cronbundle', password, child);
      const tail = () => {
        try {
          return readFileSync(errorLog, 'utf8').trim().split('\n').slice(-5).join(' | ');
        } catch {
          return '(no error log)';
        }
      };
      try {
        await waitFor(
          async () => {
            if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}: ${tail()}`);
            const root = await createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
            try {
              await root.query(`CREATE USER IF NOT EXISTS 'cronbundle'@'%' IDENTIFIED BY '${password}'`);
              await root.query(`GRANT ALL PRIVILEGES ON *.* TO 'cronbundle'@'%'`);
              return true;
            } finally {
              await root.end().catch(() => undefined);
            }
          },
          { timeoutMs: 60_000, intervalMs: 200, what: `mariadbd on port ${port} to accept connections` },
        );
      } catch (err) {
        await instance.stop();
        throw err;
      }
      return instance;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** SIGTERM (clean shutdown), wait for it, remove the data directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await withDeadline(this.exited, 30_000, 'mariadbd to shut down').catch(() => this.child.kill('SIGKILL'));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
