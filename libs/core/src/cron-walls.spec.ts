import { CronExpressionParser } from 'cron-parser';
import { CronWalls } from './cron-walls';

const EXPRESSIONS = [
  '* * * * *',
  '*/7 * * * *',
  '0 2 * * *',
  '30 4 1,15 * *',
  '0 0 L * *',
  '0 12 * * 5L',
  '0 9 * * MON#2',
  '0 9 13 * FRI',
  '0 0 1-7 * 1',
  '15 10 * JAN,JUL SUN',
  '0 0 29 2 *',
  '0 0 31 4,5 *',
  '*/15 9-17 * * MON-FRI',
  '5 */3 * * 0,6',
  '*/2 * * * * *',
  '10,20 15 8 * * *',
  '0 0 0 L 2 *',
  '@weekly',
  '@monthly',
  '@yearly',
  '0 0 * * 7',
];

describe('CronWalls matches cron-parser (UTC) wall enumeration', () => {
  it.each(EXPRESSIONS)('%s', (expr) => {
    const starts = [Date.UTC(2026, 0, 1), Date.UTC(2027, 1, 27, 23, 59, 59), Date.UTC(2028, 1, 28, 12, 30, 15, 500)];
    for (const start of starts) {
      const parsed = CronExpressionParser.parse(expr, { tz: 'UTC', currentDate: start });
      const walls = new CronWalls(CronExpressionParser.parse(expr, { tz: 'UTC', currentDate: 0 }));
      let w = start;
      for (let i = 0; i < 40; i++) {
        const expected = parsed.next().getTime();
        const actual = walls.after(w, Date.UTC(2400, 0, 1));
        expect(new Date(actual!).toISOString()).toBe(new Date(expected).toISOString());
        w = actual!;
      }
    }
  });

  it('stops at the limit', () => {
    const walls = new CronWalls(CronExpressionParser.parse('0 0 29 2 *', { tz: 'UTC', currentDate: 0 }));
    expect(walls.after(Date.UTC(2029, 0, 1), Date.UTC(2031, 0, 1))).toBeUndefined();
  });
});
