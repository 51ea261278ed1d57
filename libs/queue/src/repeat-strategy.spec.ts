import { nextSlotAfter } from '@cronbundle/core';
import { repeatStrategy } from './repeat-strategy';

describe('repeatStrategy (BullMQ settings.repeatStrategy)', () => {
  // 2026-03-08 02:30 does not exist in New York (clocks jump 02:00 → 03:00).
  const before = Date.parse('2026-03-08T06:00:00Z'); // 01:00 EST

  it('follows the DST policy carried in the repeat options', () => {
    const shift = repeatStrategy(before, {
      pattern: '30 2 * * *',
      tz: 'America/New_York',
      dstPolicy: { skipped: 'shift' },
    } as never);
    const skip = repeatStrategy(before, {
      pattern: '30 2 * * *',
      tz: 'America/New_York',
      dstPolicy: { skipped: 'skip' },
    } as never);
    expect(new Date(shift!).toISOString()).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
    expect(new Date(skip!).toISOString()).toBe('2026-03-09T06:30:00.000Z'); // next day 02:30 EDT
  });

  it('is the same maths as libs/core for the start/end window', () => {
    const opts = {
      pattern: '*/2 * * * * *',
      tz: 'UTC',
      startDate: '2026-11-22T00:00:10Z',
      endDate: '2026-11-22T00:00:14Z',
    };
    const t0 = Date.parse('2026-11-22T00:00:00Z');
    expect(repeatStrategy(t0, opts as never)).toBe(Date.parse('2026-11-22T00:00:10Z'));
    expect(repeatStrategy(Date.parse('2026-11-22T00:00:14Z'), opts as never)).toBeUndefined();
    expect(repeatStrategy(t0 + 10_000, opts as never)).toBe(
      nextSlotAfter(
        { cron: '*/2 * * * * *', timezone: 'UTC', startAt: opts.startDate, endAt: opts.endDate },
        t0 + 10_000,
      ),
    );
  });
});
