import { chmod, mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectHost } from '../test-helpers';
import { journalctlArgs } from './journald.collector';

describe('journalctlArgs', () => {
  it("builds troubleshoot's options in its order, one argv element per value", () => {
    expect(
      journalctlArgs({
        collectorName: 'k',
        system: true,
        dmesg: true,
        units: ['kubelet', 'containerd; rm -rf /'],
        since: '2 hours ago',
        until: 'now',
        output: 'json',
        lines: 100,
        reverse: true,
        utc: true,
      }),
    ).toEqual([
      '--system',
      '--dmesg',
      '-u',
      'kubelet',
      '-u',
      'containerd; rm -rf /',
      '--since',
      '2 hours ago',
      '--until',
      'now',
      '--output',
      'json',
      '-n',
      '100',
      '--reverse',
      '--utc',
      '--no-pager',
    ]);
  });

  it('adds only --no-pager for an empty spec, and no -n for lines <= 0', () => {
    expect(journalctlArgs({})).toEqual(['--no-pager']);
    expect(journalctlArgs({ lines: 0, system: false, units: [] })).toEqual(['--no-pager']);
  });
});

describe('journald host collector', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cronbundle-journald-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('without journalctl on PATH records "journalctl not found" and the run goes on', async () => {
    const emptyPath = join(dir, 'empty-bin'); // exists nowhere: nothing is found there
    const { sink, summary } = await collectHost(
      [{ journald: { collectorName: 'kubelet', units: ['kubelet'] } }, { memory: {} }],
      { env: { PATH: emptyPath } },
    );
    expect(summary).toMatchObject({ total: 2, failed: 1 });
    expect(sink.json('host-collectors/errors/kubelet-error.json')).toMatchObject({
      collector: 'kubelet',
      error: 'journalctl not found on PATH: this host has no systemd journal to read',
    });
    expect(sink.files.has('host-collectors/system/memory.json')).toBe(true);
    expect([...sink.files.keys()].filter((k) => k.startsWith('host-collectors/journald/'))).toEqual([]);
  });

  it('requires collectorName, as troubleshoot does', async () => {
    const { sink, summary } = await collectHost([{ journald: { units: ['kubelet'] } }]);
    expect(summary.failed).toBe(1);
    expect(sink.json('host-collectors/errors/journald-error.json')).toMatchObject({
      error: 'collectorName is required for journald collectors',
    });
  });

  describe('with a journalctl on PATH', () => {
    let bin: string;
    let env: Record<string, string>;

    beforeEach(async () => {
      // A real executable standing in for journalctl: echoes its argv, one element per line.
      bin = join(dir, 'bin');
      await mkdir(bin);
      const script = [
        '#!/bin/sh',
        'for a in "$@"; do printf "%s\\n" "$a"; done',
        'case " $* " in',
        '  *" broken "*) echo "Failed to add filter for units: No data available" >&2; exit 1;;',
        '  *" slow "*) exec sleep 10;;',
        'esac',
        'echo "Hint: some entries are hidden" >&2',
      ].join('\n');
      await writeFile(join(bin, 'journalctl'), `${script}\n`);
      await chmod(join(bin, 'journalctl'), 0o755);
      env = { PATH: `${bin}:/usr/bin:/bin` };
    });

    it('runs it with the arguments (no shell) and writes .txt, -info.json and -stderr.txt', async () => {
      const { sink, summary } = await collectHost(
        [{ journald: { collectorName: 'units', units: ['kubelet', '$(id)'], lines: 5, utc: true } }],
        { env },
      );
      expect(summary.failed).toBe(0);
      expect(sink.text('host-collectors/journald/units.txt')).toBe(
        ['-u', 'kubelet', '-u', '$(id)', '-n', '5', '--utc', '--no-pager', ''].join('\n'),
      );
      expect(sink.json('host-collectors/journald/units-info.json')).toEqual({
        command: `${join(bin, 'journalctl')} -u kubelet -u $(id) -n 5 --utc --no-pager`,
        exitCode: '0',
        error: '',
        outputDir: '',
        input: '',
        env: [],
      });
      expect(sink.text('host-collectors/journald/units-stderr.txt')).toBe('Hint: some entries are hidden\n');
    });

    it('records a non-zero exit with stderr as the error, and a timeout as exit code 124', async () => {
      const { sink, summary } = await collectHost(
        [
          { journald: { collectorName: 'bad', units: ['broken'] } },
          { journald: { collectorName: 'slow', units: ['slow'], timeout: '300ms' } },
        ],
        { env },
      );
      expect(summary.failed).toBe(0);
      expect(sink.json('host-collectors/journald/bad-info.json')).toMatchObject({
        exitCode: '1',
        error: 'Failed to add filter for units: No data available\n',
      });
      expect(sink.json('host-collectors/journald/slow-info.json')).toMatchObject({
        exitCode: '124',
        error: 'command timed out after 300 ms',
      });
      expect(summary.results.find((r) => r.name === 'slow')!.ms).toBeLessThan(5_000);
    });
  });
});
