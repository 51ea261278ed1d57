import { CronExpressionParser } from 'cron-parser';
import { ValidationError } from './errors';
import {
  CronSchedule,
  cronProblems,
  jitterDelayMs,
  nextFireTimes,
  nextSlotAfter,
  ScheduleLike,
  slotsBetween,
} from './cron-schedule';

const iso = (ms: number[]) => ms.map((m) => new Date(m).toISOString().replace('.000Z', 'Z'));
const at = (s: string) => Date.parse(s);
const sched = (cron: string, timezone: string, dst: ScheduleLike['dstPolicy'] = {}): ScheduleLike => ({
  cron,
  timezone,
  dstPolicy: dst,
});

describe('cron-parser v5 native DST behaviour (probe; we build our own mapping on top)', () => {
  // Kept as a record of why CronSchedule maps wall times itself: natively a skipped time is shifted
  // and a repeated time fires once, with no way to choose 'skip' or 'twice'.
  it('shifts a skipped time and fires a repeated fixed time once', () => {
    const spring = CronExpressionParser.parse('30 2 * * *', {
      tz: 'America/New_York',
      currentDate: at('2026-03-08T00:00:00Z'),
    });
    expect(spring.next().toISOString()).toBe('2026-03-08T07:30:00.000Z');
    const fall = CronExpressionParser.parse('30 1 * * *', {
      tz: 'America/New_York',
      currentDate: at('2026-11-01T00:00:00Z'),
    });
    expect([fall.next().toISOString(), fall.next().toISOString()]).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });
});

describe('America/New_York', () => {
  describe('spring forward 2026-03-08 (02:00 EST -> 03:00 EDT)', () => {
    it("skipped='shift' fires 02:30 at 03:30 EDT", () => {
      expect(iso(nextFireTimes(sched('30 2 * * *', 'America/New_York'), at('2026-03-07T00:00:00Z'), 3))).toEqual([
        '2026-03-07T07:30:00Z',
        '2026-03-08T07:30:00Z',
        '2026-03-09T06:30:00Z',
      ]);
    });
    it("skipped='skip' does not fire the missing 02:30", () => {
      const s = sched('30 2 * * *', 'America/New_York', { skipped: 'skip' });
      expect(iso(nextFireTimes(s, at('2026-03-07T00:00:00Z'), 2))).toEqual([
        '2026-03-07T07:30:00Z',
        '2026-03-09T06:30:00Z',
      ]);
    });
    it('de-duplicates a shifted time that lands on an existing one', () => {
      const s = sched('0,30 2,3 * * *', 'America/New_York');
      expect(iso(slotsBetween(s, at('2026-03-08T05:00:00Z'), at('2026-03-08T12:00:00Z')))).toEqual([
        '2026-03-08T07:00:00Z',
        '2026-03-08T07:30:00Z',
      ]);
    });
    it('an every-30-minutes cron steps straight from 01:30 EST to 03:00 EDT', () => {
      const s = sched('*/30 * * * *', 'America/New_York');
      expect(iso(nextFireTimes(s, at('2026-03-08T06:00:00Z'), 3))).toEqual([
        '2026-03-08T06:30:00Z',
        '2026-03-08T07:00:00Z',
        '2026-03-08T07:30:00Z',
      ]);
    });
  });

  describe('fall back 2026-11-01 (02:00 EDT -> 01:00 EST)', () => {
    it("repeated='once' fires 01:30 only at its first occurrence", () => {
      expect(iso(nextFireTimes(sched('30 1 * * *', 'America/New_York'), at('2026-10-31T00:00:00Z'), 3))).toEqual([
        '2026-10-31T05:30:00Z',
        '2026-11-01T05:30:00Z',
        '2026-11-02T06:30:00Z',
      ]);
    });
    it("repeated='twice' fires 01:30 EDT and 01:30 EST", () => {
      const s = sched('30 1 * * *', 'America/New_York', { repeated: 'twice' });
      expect(iso(nextFireTimes(s, at('2026-10-31T00:00:00Z'), 4))).toEqual([
        '2026-10-31T05:30:00Z',
        '2026-11-01T05:30:00Z',
        '2026-11-01T06:30:00Z',
        '2026-11-02T06:30:00Z',
      ]);
    });
    it("every 30 minutes: 'once' leaves out the repeated hour, 'twice' keeps it", () => {
      const from = at('2026-11-01T04:00:00Z');
      expect(iso(nextFireTimes(sched('*/30 * * * *', 'America/New_York'), from, 5))).toEqual([
        '2026-11-01T04:30:00Z',
        '2026-11-01T05:00:00Z',
        '2026-11-01T05:30:00Z',
        '2026-11-01T07:00:00Z',
        '2026-11-01T07:30:00Z',
      ]);
      expect(iso(nextFireTimes(sched('*/30 * * * *', 'America/New_York', { repeated: 'twice' }), from, 6))).toEqual([
        '2026-11-01T04:30:00Z',
        '2026-11-01T05:00:00Z',
        '2026-11-01T05:30:00Z',
        '2026-11-01T06:00:00Z',
        '2026-11-01T06:30:00Z',
        '2026-11-01T07:00:00Z',
      ]);
    });
    it('asked from inside the repeated hour, twice still finds the second occurrence', () => {
      const s = sched('0 1 * * *', 'America/New_York', { repeated: 'twice' });
      expect(iso([nextSlotAfter(s, at('2026-11-01T05:20:00Z'))!])).toEqual(['2026-11-01T06:00:00Z']);
      expect(iso([nextSlotAfter(sched('0 1 * * *', 'America/New_York'), at('2026-11-01T05:20:00Z'))!])).toEqual([
        '2026-11-02T06:00:00Z',
      ]);
    });
  });
});

describe('Europe/London', () => {
  it('2026-03-29 (01:00 GMT -> 02:00 BST): 01:30 shifts to 02:30 BST or is skipped', () => {
    const from = at('2026-03-28T00:00:00Z');
    expect(iso(nextFireTimes(sched('30 1 * * *', 'Europe/London'), from, 3))).toEqual([
      '2026-03-28T01:30:00Z',
      '2026-03-29T01:30:00Z',
      '2026-03-30T00:30:00Z',
    ]);
    expect(iso(nextFireTimes(sched('30 1 * * *', 'Europe/London', { skipped: 'skip' }), from, 2))).toEqual([
      '2026-03-28T01:30:00Z',
      '2026-03-30T00:30:00Z',
    ]);
  });
  it('2026-10-25 (02:00 BST -> 01:00 GMT): 01:30 once or twice', () => {
    const from = at('2026-10-24T12:00:00Z');
    expect(iso(nextFireTimes(sched('30 1 * * *', 'Europe/London'), from, 2))).toEqual([
      '2026-10-25T00:30:00Z',
      '2026-10-26T01:30:00Z',
    ]);
    expect(iso(nextFireTimes(sched('30 1 * * *', 'Europe/London', { repeated: 'twice' }), from, 3))).toEqual([
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:30:00Z',
      '2026-10-26T01:30:00Z',
    ]);
  });
  it('an hourly job around the autumn change', () => {
    const from = at('2026-10-24T23:30:00Z');
    expect(iso(nextFireTimes(sched('0 * * * *', 'Europe/London'), from, 3))).toEqual([
      '2026-10-25T00:00:00Z', // 01:00 BST
      '2026-10-25T02:00:00Z', // 02:00 GMT (01:00 GMT is a repeat)
      '2026-10-25T03:00:00Z',
    ]);
    expect(iso(nextFireTimes(sched('0 * * * *', 'Europe/London', { repeated: 'twice' }), from, 3))).toEqual([
      '2026-10-25T00:00:00Z',
      '2026-10-25T01:00:00Z',
      '2026-10-25T02:00:00Z',
    ]);
  });
});

describe('Australia/Lord_Howe (30-minute shift)', () => {
  it('2026-04-05 (02:00 +11 -> 01:30 +10:30): 01:45 once or twice', () => {
    const from = at('2026-04-03T00:00:00Z');
    expect(iso(nextFireTimes(sched('45 1 * * *', 'Australia/Lord_Howe'), from, 3))).toEqual([
      '2026-04-03T14:45:00Z',
      '2026-04-04T14:45:00Z',
      '2026-04-05T15:15:00Z',
    ]);
    expect(iso(nextFireTimes(sched('45 1 * * *', 'Australia/Lord_Howe', { repeated: 'twice' }), from, 4))).toEqual([
      '2026-04-03T14:45:00Z',
      '2026-04-04T14:45:00Z',
      '2026-04-04T15:15:00Z',
      '2026-04-05T15:15:00Z',
    ]);
  });
  it('2026-10-04 (02:00 +10:30 -> 02:30 +11): 02:15 shifts by 30 minutes to 02:45, or is skipped', () => {
    const from = at('2026-10-02T00:00:00Z');
    expect(iso(nextFireTimes(sched('15 2 * * *', 'Australia/Lord_Howe'), from, 3))).toEqual([
      '2026-10-02T15:45:00Z',
      '2026-10-03T15:45:00Z', // 02:45 +11
      '2026-10-04T15:15:00Z',
    ]);
    expect(iso(nextFireTimes(sched('15 2 * * *', 'Australia/Lord_Howe', { skipped: 'skip' }), from, 2))).toEqual([
      '2026-10-02T15:45:00Z',
      '2026-10-04T15:15:00Z',
    ]);
  });
});

describe('plain schedules', () => {
  it('UTC daily, with names and macros', () => {
    expect(iso(nextFireTimes(sched('0 2 * * *', 'UTC'), at('2026-01-01T02:00:00Z'), 2))).toEqual([
      '2026-01-02T02:00:00Z',
      '2026-01-03T02:00:00Z',
    ]);
    expect(iso(nextFireTimes(sched('0 9 * JAN MON', 'UTC'), at('2026-01-01T00:00:00Z'), 2))).toEqual([
      '2026-01-05T09:00:00Z',
      '2026-01-12T09:00:00Z',
    ]);
    expect(iso(nextFireTimes(sched('@daily', 'Europe/London'), at('2026-06-01T12:00:00Z'), 1))).toEqual([
      '2026-06-01T23:00:00Z',
    ]);
    expect(iso(nextFireTimes(sched('@yearly', 'UTC'), at('2026-06-01T12:00:00Z'), 2))).toEqual([
      '2027-01-01T00:00:00Z',
      '2028-01-01T00:00:00Z',
    ]);
  });
  it('every minute, strictly after a fractional instant', () => {
    expect(iso(nextFireTimes(sched('* * * * *', 'UTC'), at('2026-05-05T10:00:00.500Z'), 3))).toEqual([
      '2026-05-05T10:01:00Z',
      '2026-05-05T10:02:00Z',
      '2026-05-05T10:03:00Z',
    ]);
  });
  it('6 fields: every 2 seconds, also across a DST change', () => {
    expect(iso(nextFireTimes(sched('*/2 * * * * *', 'UTC'), at('2026-05-05T10:00:00.500Z'), 3))).toEqual([
      '2026-05-05T10:00:02Z',
      '2026-05-05T10:00:04Z',
      '2026-05-05T10:00:06Z',
    ]);
    // 06:59:58Z is 01:59:58 EST; the next wall 02:00:00 does not exist and shifts onto 03:00:00 EDT.
    expect(iso(nextFireTimes(sched('*/2 * * * * *', 'America/New_York'), at('2026-03-08T06:59:57Z'), 3))).toEqual([
      '2026-03-08T06:59:58Z',
      '2026-03-08T07:00:00Z',
      '2026-03-08T07:00:02Z',
    ]);
  });
  it('a leap-day cron finds the next leap year', () => {
    expect(iso(nextFireTimes(sched('0 0 29 2 *', 'Europe/Paris'), at('2026-01-01T00:00:00Z'), 2))).toEqual([
      '2028-02-28T23:00:00Z',
      '2032-02-28T23:00:00Z',
    ]);
  });
  it('respects a startAt/endAt window (both inclusive)', () => {
    const s: ScheduleLike = {
      cron: '0 * * * *',
      timezone: 'UTC',
      startAt: '2026-01-01T05:30:00Z',
      endAt: '2026-01-01T08:00:00Z',
    };
    expect(iso(nextFireTimes(s, 0, 10))).toEqual([
      '2026-01-01T06:00:00Z',
      '2026-01-01T07:00:00Z',
      '2026-01-01T08:00:00Z',
    ]);
    expect(nextSlotAfter(s, at('2026-01-01T08:00:00Z'))).toBeUndefined();
    expect(iso(slotsBetween(s, at('2026-01-01T06:00:00Z'), at('2026-01-01T07:30:00Z')))).toEqual([
      '2026-01-01T07:00:00Z',
    ]);
    expect(slotsBetween(sched('* * * * *', 'UTC'), 0, 10 * 60_000, 4)).toHaveLength(4);
  });
});

describe('validation', () => {
  it.each([
    ['61 * * * *', /invalid cron expression/],
    ['* * * *', /5 fields, or 6/],
    ['* * * * * * *', /5 fields, or 6/],
    ['@reboot', /unknown cron macro/],
    ['H * * * *', /hashed/],
    ['', /non-empty/],
    ['0 0 31 2 *', /invalid cron expression/],
  ])('rejects cron %j', (cron, problem) => {
    const issues = cronProblems(cron);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'cron', message: expect.stringMatching(problem) });
  });
  it('accepts names on THU without mistaking them for H', () => {
    expect(cronProblems('0 0 * * THU')).toEqual([]);
    expect(cronProblems('0 0 1 MAR,MAY *')).toEqual([]);
  });
  it('throws ValidationError naming cron and timezone', () => {
    expect(() => CronSchedule.compile({ cron: 'nope', timezone: 'Mars/Olympus' })).toThrow(ValidationError);
    try {
      CronSchedule.compile({ cron: 'nope', timezone: 'Mars/Olympus' });
    } catch (err) {
      expect((err as ValidationError).details.map((d) => d.path)).toEqual(['cron', 'timezone']);
    }
    expect(() => nextSlotAfter({ cron: '0 * * * *', timezone: 'Not/AZone' }, 0)).toThrow(/unknown time zone/);
  });
});

describe('jitterDelayMs', () => {
  it('is 0 without jitter, stays in range, and is stable per (seed, slot)', () => {
    expect(jitterDelayMs({ jitterSeconds: 0 }, 1000, 'a')).toBe(0);
    const delays = Array.from({ length: 500 }, (_, i) => jitterDelayMs({ jitterSeconds: 60 }, i * 60_000, 'job-a'));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(60_000);
    expect(new Set(delays).size).toBeGreaterThan(450);
    expect(Math.max(...delays)).toBeGreaterThan(50_000);
    expect(jitterDelayMs({ jitterSeconds: 60 }, 120_000, 'job-a')).toBe(delays[2]);
    expect(jitterDelayMs({ jitterSeconds: 60 }, 120_000, 'job-b')).not.toBe(delays[2]);
  });
});

describe('speed (BullMQ repeatStrategy budget: 10k calls/s)', () => {
  it.each([
    ['*/5 * * * *', 'UTC', at('2026-06-01T00:00:00Z')],
    ['*/2 * * * * *', 'America/New_York', at('2026-11-01T05:30:00Z')], // inside a fall-back window
    ['0 3 * * MON', 'Australia/Lord_Howe', at('2026-10-03T12:00:00Z')],
  ])('%s in %s: 10k nextSlotAfter calls well under a second', (cron, timezone, from) => {
    const s = sched(cron, timezone);
    nextSlotAfter(s, from);
    const started = performance.now();
    let t = from;
    for (let i = 0; i < 10_000; i++) nextSlotAfter(s, t + (i % 50) * 1000);
    t = performance.now() - started;
    expect(t).toBeLessThan(1000);
  });
});
