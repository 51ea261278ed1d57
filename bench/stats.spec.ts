import {
  commandstatsDelta,
  fmt,
  fmtBytes,
  markdownTable,
  median,
  meets,
  parseCommandstats,
  percentile,
} from './lib/stats';

describe('bench stats helpers', () => {
  it('percentile uses the nearest rank and does not reorder its input', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 100)).toBe(10);
    expect(values[0]).toBe(5);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('percentile of nothing is NaN and a p outside 0..100 is refused', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('meets compares against a minimum or a maximum', () => {
    expect(meets(0.6, { better: 'higher', limit: 0.5, text: '' })).toBe(true);
    expect(meets(0.4, { better: 'higher', limit: 0.5, text: '' })).toBe(false);
    expect(meets(2, { better: 'lower', limit: 2, text: '' })).toBe(true);
    expect(meets(2.1, { better: 'lower', limit: 2, text: '' })).toBe(false);
    expect(meets(NaN, { better: 'lower', limit: 2, text: '' })).toBe(false);
  });

  it('formats figures and byte sizes', () => {
    expect(fmt(0.12345)).toBe('0.12');
    expect(fmt(12.345)).toBe('12.3');
    expect(fmt(1234.5)).toBe('1235');
    expect(fmt(NaN)).toBe('n/a');
    expect(fmt(0.0019123)).toBe('0.0019');
    expect(fmt(0.05)).toBe('0.05');
    expect(fmt(0)).toBe('0');
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtBytes(1536)).toBe('1.5 KiB');
    expect(fmtBytes(3 * 1024 * 1024)).toBe('3 MiB');
  });

  it('prints one markdown row per result, escaping pipes and marking missed goals', () => {
    const table = markdownTable([
      {
        scenario: 'dispatch',
        cronbundle: '500 runs/s',
        raw: '2000 jobs/s',
        ratio: 0.25,
        goal: '≥ 0.5× raw',
        met: false,
      },
      { scenario: 'a|b', cronbundle: '1', raw: 'n/a', goal: '≤ 6 s', met: true },
      { scenario: 'skipped', cronbundle: '–', raw: '–', goal: '≤ 1 s' },
      { scenario: 'no goal', cronbundle: '1 MiB', raw: 'n/a', goal: '–', met: null },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe('| scenario | cronbundle | raw BullMQ | ratio | goal | met? |');
    expect(lines[2]).toBe('| dispatch | 500 runs/s | 2000 jobs/s | 0.25× | ≥ 0.5× raw | **no** |');
    expect(lines[3]).toBe('| a\\|b | 1 | n/a | – | ≤ 6 s | yes |');
    expect(lines[4]).toContain('not measured');
    expect(lines[5]).toBe('| no goal | 1 MiB | n/a | – | – | – |');
  });

  it('parses INFO commandstats and diffs two snapshots, largest first', () => {
    const before = parseCommandstats(
      '# Commandstats\r\ncmdstat_get:calls=10,usec=5\r\ncmdstat_evalsha:calls=1,usec=9\r\n',
    );
    const after = parseCommandstats(
      '# Commandstats\r\ncmdstat_get:calls=12,usec=5\r\ncmdstat_evalsha:calls=31,usec=9\r\ncmdstat_hset:calls=4,usec=1\r\n',
    );
    expect(before).toEqual({ get: 10, evalsha: 1 });
    expect(commandstatsDelta(before, after)).toEqual([
      { command: 'evalsha', calls: 30 },
      { command: 'hset', calls: 4 },
      { command: 'get', calls: 2 },
    ]);
  });
});
