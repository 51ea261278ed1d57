import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, builtAppPath, freePort, waitFor, withDeadline } from '@cronbundle/testing';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Child PIDs of a process, from /proc (Linux). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

describe('cronbundle up (the embedded default)', () => {
  let child: ChildProcess | undefined;
  let cwd: string;

  beforeAll(() => {
    assertBuilt();
    cwd = mkdtempSync(join(tmpdir(), 'cronbundle-up-'));
  });
  afterAll(() => {
    if (child?.pid && alive(child.pid)) child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  });

  it('starts Redis, scheduler, two workers and the api, all ready, and stops everything on Ctrl-C', async () => {
    const port = await freePort();
    const env = { ...process.env };
    delete env.REDIS_URL;
    child = spawn(process.execPath, [builtAppPath('cli'), 'up', '--port', String(port), '--workers', '2'], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));

    await waitFor(() => out.includes('cronbundle is up'), { timeoutMs: 40_000, what: '"cronbundle is up"' }).catch(
      (err: Error) => {
        // The output at the deadline, not at the call: what `up` was waiting for.
        throw new Error(`${err.message}; output:\n${out.slice(-3000)}`);
      },
    );
    expect(out).toContain(`http://127.0.0.1:${port}/admin/queues`);
    expect(out).toMatch(/\[worker-2\]/);
    for (const p of [port, port + 1, port + 2, port + 3]) {
      const res = await fetch(`http://127.0.0.1:${p}/health/ready`);
      expect({ port: p, status: res.status }).toEqual({ port: p, status: 200 });
    }
    // Redis runs with AOF under .data/redis of the working directory.
    expect(readdirSync(join(cwd, '.data', 'redis')).join(' ')).toMatch(/appendonly/);

    const children = childPids(child.pid!);
    expect(children).toHaveLength(5); // redis-server, scheduler, 2 workers, api

    child.kill('SIGINT');
    const code = await withDeadline(exited, 20_000, 'cronbundle up to exit after SIGINT');
    expect(code).toBe(0);
    for (const pid of children) expect({ pid, alive: alive(pid) }).toEqual({ pid, alive: false });
    expect(out).toMatch(/\[api\].*stopped/);
  });
});
