import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectHost } from '../test-helpers';

const env = { PATH: '/usr/local/bin:/usr/bin:/bin', SECRET_TOKEN: 'do-not-pass' };

describe('run', () => {
  it('refuses to run unless allowRun is true', async () => {
    const { sink, summary } = await collectHost([{ run: { collectorName: 'echo', command: 'echo', args: ['hi'] } }], {
      env,
    });
    expect(summary.failed).toBe(1);
    expect(sink.json('host-collectors/errors/echo-error.json')).toEqual({
      collector: 'echo',
      error: expect.stringMatching(/allowRun/),
      timestamp: expect.any(String),
    });
    expect(sink.files.has('host-collectors/run-host/echo.txt')).toBe(false);
  });

  it('captures stdout, stderr and info with allowRun; passes spec env but not the parent secrets', async () => {
    const { sink, summary } = await collectHost(
      [
        {
          run: {
            collectorName: 'env',
            command: 'sh',
            args: ['-c', 'echo "$GREETING $SECRET_TOKEN"; echo oops >&2; exit 3'],
            env: ['GREETING=hello'],
          },
        },
        { run: { command: 'true' } },
      ],
      { env, allowRun: true },
    );
    expect(summary.failed).toBe(0);
    expect(sink.text('host-collectors/run-host/env.txt')).toBe('hello \n');
    expect(sink.text('host-collectors/run-host/env-stderr.txt')).toBe('oops\n');
    expect(sink.json('host-collectors/run-host/env-info.json')).toEqual({
      command: 'sh -c echo "$GREETING $SECRET_TOKEN"; echo oops >&2; exit 3',
      exitCode: '3',
      error: 'exit status 3',
      outputDir: '',
      input: '',
      env: ['GREETING=hello'],
    });
    expect(sink.text('host-collectors/run-host/run-host.txt')).toBe('');
    expect(sink.files.has('host-collectors/run-host/run-host-stderr.txt')).toBe(false);
    expect(sink.json('host-collectors/run-host/run-host-info.json')).toMatchObject({ exitCode: '0', error: '' });
  });

  it('kills a command past its timeout and records the error', async () => {
    const started = Date.now();
    const { sink, summary } = await collectHost(
      [{ run: { collectorName: 'slow', command: 'sleep', args: ['30'], timeout: '300ms' } }],
      { env, allowRun: true },
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(summary.results[0]!.error).toMatch(/timed out after 300 ms/);
    expect(sink.json('host-collectors/run-host/slow-info.json')).toMatchObject({
      error: 'command timed out after 300 ms',
    });
    expect(sink.json('host-collectors/errors/slow-error.json')).toMatchObject({
      error: expect.stringMatching(/timed out/),
    });
  });

  it('a missing command is a collector error', async () => {
    const { summary } = await collectHost([{ run: { command: 'definitely-not-a-command-xyz' } }], {
      env,
      allowRun: true,
    });
    expect(summary.results[0]!.error).toMatch(/ENOENT/);
  });

  it('caps the captured output at the per-collector limit', async () => {
    const { sink, summary } = await collectHost(
      [{ run: { collectorName: 'big', command: 'head', args: ['-c', '100000', '/dev/zero'] } }],
      {
        env,
        allowRun: true,
        maxCollectorBytes: 1000,
      },
    );
    expect(sink.files.get('host-collectors/run-host/big.txt')!.length).toBe(1000);
    expect(summary.results[0]!.truncated).toBe(true);
  });
});

describe('copy', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copy-'));
    await mkdir(join(dir, 'allowed/logs/nested'), { recursive: true });
    await mkdir(join(dir, 'outside'));
    await writeFile(join(dir, 'allowed/logs/app.log'), 'app log');
    await writeFile(join(dir, 'allowed/logs/nested/deep.log'), 'deep');
    await writeFile(join(dir, 'outside/secret.txt'), 'TOP SECRET');
    await symlink(join(dir, 'outside/secret.txt'), join(dir, 'allowed/logs/escape.log'));
    await symlink(join(dir, 'outside'), join(dir, 'allowed/logs/escape-dir'));
    await symlink(join(dir, 'allowed/logs/app.log'), join(dir, 'allowed/logs/inside-link.log'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('copies matches below the allowed root and refuses symlinks that lead out', async () => {
    const { sink, summary } = await collectHost(
      [{ copy: { collectorName: 'logs', path: join(dir, 'allowed/logs') } }],
      { allowedPaths: [join(dir, 'allowed')] },
    );
    expect(summary.failed).toBe(0);
    expect(sink.text('host-collectors/logs/logs/app.log')).toBe('app log');
    expect(sink.text('host-collectors/logs/logs/nested/deep.log')).toBe('deep');
    expect(sink.text('host-collectors/logs/logs/inside-link.log')).toBe('app log');
    expect(sink.files.has('host-collectors/logs/logs/escape.log')).toBe(false);
    expect([...sink.files.values()].some((b) => b.toString().includes('TOP SECRET'))).toBe(false);
    const errors = sink.json('host-collectors/logs/errors.json') as string[];
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/escape\.log: outside the allowed paths/),
        expect.stringMatching(/escape-dir: outside the allowed paths/),
      ]),
    );
  });

  it('a glob that matches a symlink out of the root copies nothing from outside', async () => {
    const { sink } = await collectHost([{ copy: { path: join(dir, 'allowed/logs/*.log') } }], {
      allowedPaths: [join(dir, 'allowed')],
    });
    expect(sink.text('host-collectors/copy/app.log')).toBe('app log');
    expect(sink.files.has('host-collectors/copy/escape.log')).toBe(false);
    expect(sink.json('host-collectors/copy/errors.json')).toEqual([
      expect.stringMatching(/escape\.log: outside the allowed paths \(symlink to .*secret\.txt\)/),
    ]);
  });

  it('refuses paths outside allowedPaths, and everything when none are configured', async () => {
    const outside = await collectHost([{ copy: { path: join(dir, 'outside/secret.txt') } }], {
      allowedPaths: [join(dir, 'allowed')],
    });
    expect(outside.sink.files.has('host-collectors/copy/secret.txt')).toBe(false);
    expect(outside.sink.json('host-collectors/copy/errors.json')).toEqual([
      expect.stringMatching(/outside the allowed paths/),
    ]);
    const none = await collectHost([{ copy: { path: join(dir, 'allowed/logs/app.log') } }]);
    expect(none.summary.results[0]!.error).toMatch(/allowedPaths/);
  });

  it('caps copied bytes per collector', async () => {
    await writeFile(join(dir, 'allowed/big.bin'), Buffer.alloc(50_000, 1));
    const { sink, summary } = await collectHost([{ copy: { path: join(dir, 'allowed/big.bin') } }], {
      allowedPaths: [join(dir, 'allowed')],
      maxCollectorBytes: 4096,
    });
    expect(sink.files.get('host-collectors/copy/big.bin')!.length).toBe(4096);
    expect(summary.results[0]!.truncated).toBe(true);
  });
});
