import fc from 'fast-check';
import { CronExpressionParser } from 'cron-parser';
import { nextFireTimes, RepeatedTimePolicy, SkippedTimePolicy } from './cron-schedule';
import { zoneOffsetMs } from './timezone';

const MIN = 60_000;
const DAY = 86_400_000;

/**
 * Brute-force oracle, minute by minute and independent of the window logic: an instant fires when its
 * wall time matches (and, under 'once', no earlier instant had that wall time); a wall time that no
 * instant has fires, under 'shift', at wall - offset-before-the-gap.
 */
function oracle(
  cron: string,
  tz: string,
  repeated: RepeatedTimePolicy,
  skipped: SkippedTimePolicy,
  from: number,
  to: number,
): number[] {
  const expr = CronExpressionParser.parse(cron, { tz: 'UTC', currentDate: 0 });
  const f = expr.fields;
  const matches = (wall: number) => {
    const d = new Date(wall);
    const dom = (f.dayOfMonth.values as (number | string)[]).includes(d.getUTCDate());
    const dow = (f.dayOfWeek.values as (number | string)[]).some(
      (v) => typeof v === 'number' && v % 7 === d.getUTCDay(),
    );
    const day = f.dayOfMonth.isWildcard || f.dayOfWeek.isWildcard ? dom && dow : dom || dow;
    return (
      day &&
      (f.month.values as number[]).includes(d.getUTCMonth() + 1) &&
      (f.hour.values as number[]).includes(d.getUTCHours()) &&
      (f.minute.values as number[]).includes(d.getUTCMinutes())
    );
  };
  const out = new Set<number>();
  const start = Math.floor(from / MIN) * MIN + MIN;
  for (let s = start; s <= to; s += MIN) {
    const wall = s + zoneOffsetMs(tz, s);
    if (!matches(wall)) continue;
    const earlier = [zoneOffsetMs(tz, s - DAY), zoneOffsetMs(tz, s + DAY)].some(
      (o) => wall - o < s && wall - o + zoneOffsetMs(tz, wall - o) === wall,
    );
    if (repeated === 'twice' || !earlier) out.add(s);
  }
  if (skipped === 'shift') {
    const lo = start + zoneOffsetMs(tz, start) - 3 * 3_600_000;
    for (let w = Math.floor(lo / MIN) * MIN; w <= to + zoneOffsetMs(tz, to); w += MIN) {
      if (!matches(w)) continue;
      const ob = zoneOffsetMs(tz, w - DAY);
      const oa = zoneOffsetMs(tz, w + DAY);
      const exists = [ob, oa].some((o) => zoneOffsetMs(tz, w - o) === o);
      if (!exists && w - ob > from && w - ob <= to) out.add(w - ob);
    }
  }
  return [...out].sort((a, b) => a - b);
}

const TRANSITIONS: [string, number][] = [
  ['America/New_York', Date.UTC(2026, 2, 8, 7)],
  ['America/New_York', Date.UTC(2026, 10, 1, 6)],
  ['Europe/London', Date.UTC(2026, 2, 29, 1)],
  ['Europe/London', Date.UTC(2026, 9, 25, 1)],
  ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 15)],
  ['Australia/Lord_Howe', Date.UTC(2026, 9, 3, 15, 30)],
];

describe('slots agree with a minute-by-minute oracle around real transitions', () => {
  it('for random crons, policies and start instants', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TRANSITIONS),
        fc.integer({ min: -30 * 60, max: 30 * 60 }),
        fc.constantFrom('*/15 * * * *', '0,30 1,2,3 * * *', '45 1 * * *', '15 2 * * *', '*/20 0-4 * * *', '0 * * * *'),
        fc.constantFrom<RepeatedTimePolicy>('once', 'twice'),
        fc.constantFrom<SkippedTimePolicy>('shift', 'skip'),
        ([tz, transition], offsetMin, cron, repeated, skipped) => {
          const from = transition + offsetMin * 2 * MIN;
          const to = from + 6 * 3_600_000;
          const expected = oracle(cron, tz, repeated, skipped, from, to);
          const actual = nextFireTimes(
            { cron, timezone: tz, dstPolicy: { repeated, skipped } },
            from,
            expected.length + 1,
          ).filter((s) => s <= to);
          expect(actual.map((x) => new Date(x).toISOString())).toEqual(expected.map((x) => new Date(x).toISOString()));
        },
      ),
      { numRuns: 60 },
    );
  });
});
