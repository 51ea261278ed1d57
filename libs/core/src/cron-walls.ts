import type { CronExpression } from 'cron-parser';

const DAY = 86_400_000;

/** next[i] = the smallest allowed value >= i, or -1; one table per field makes a step O(1). */
function nextTable(values: readonly (number | string)[], size: number): Int16Array {
  const allowed = new Array<boolean>(size).fill(false);
  for (const v of values) if (typeof v === 'number' && v >= 0 && v < size) allowed[v] = true;
  const table = new Int16Array(size + 1).fill(-1);
  for (let i = size - 1; i >= 0; i--) table[i] = allowed[i] ? i : table[i + 1];
  return table;
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/**
 * Enumerates the wall-clock times a parsed cron expression matches, with wall times encoded as
 * UTC milliseconds (no zone involved). cron-parser does the parsing and validation; this walker
 * replaces its `next()`, which is an order of magnitude slower for sparse expressions, and repeats its
 * day rules exactly (DOM/DOW OR when both are restricted, `L`, `nL`, `#n`); a unit test checks it
 * against cron-parser on many expressions.
 */
export class CronWalls {
  private readonly sec: Int16Array;
  private readonly min: Int16Array;
  private readonly hour: Int16Array;
  private readonly months: boolean[];
  private readonly domValues: boolean[];
  private readonly domLast: boolean;
  private readonly domWildcard: boolean;
  private readonly dowValues: boolean[];
  private readonly dowLast: number[];
  private readonly dowWildcard: boolean;
  private readonly nthDay: number;
  private readonly dayCache = new Map<number, boolean>();

  constructor(expr: CronExpression) {
    const f = expr.fields;
    this.sec = nextTable(f.second.values, 60);
    this.min = nextTable(f.minute.values, 60);
    this.hour = nextTable(f.hour.values, 24);
    this.months = new Array<boolean>(13).fill(false);
    for (const m of f.month.values) this.months[m] = true;
    this.domValues = new Array<boolean>(32).fill(false);
    for (const d of f.dayOfMonth.values) if (typeof d === 'number') this.domValues[d] = true;
    this.domLast = f.dayOfMonth.hasLastChar;
    this.domWildcard = f.dayOfMonth.isWildcard;
    this.dowValues = new Array<boolean>(8).fill(false);
    for (const d of f.dayOfWeek.values) if (typeof d === 'number') this.dowValues[d % 7] = true;
    this.dowLast = f.dayOfWeek.hasLastChar
      ? f.dayOfWeek.values.filter((v) => typeof v === 'string').map((v) => parseInt(String(v).charAt(0), 10) % 7)
      : [];
    this.dowWildcard = f.dayOfWeek.isWildcard;
    this.nthDay = f.dayOfWeek.nthDay;
  }

  /** The first matching wall time strictly after `wallMs` (whole seconds), or undefined past `limitMs`. */
  after(wallMs: number, limitMs: number): number | undefined {
    let t = Math.floor(wallMs / 1000) * 1000 + 1000;
    for (let guard = 0; guard < 100_000; guard++) {
      if (t > limitMs) return undefined;
      const d = new Date(t);
      const year = d.getUTCFullYear();
      const month0 = d.getUTCMonth();
      if (!this.months[month0 + 1]) {
        t = Date.UTC(year, month0 + 1, 1);
        continue;
      }
      const day = d.getUTCDate();
      if (!this.dayMatches(year, month0, day, t)) {
        t = Date.UTC(year, month0, day + 1);
        continue;
      }
      const dayStart = Date.UTC(year, month0, day);
      const h = d.getUTCHours();
      const nh = this.hour[h];
      if (nh < 0) {
        t = dayStart + DAY;
        continue;
      }
      if (nh !== h) {
        t = dayStart + nh * 3_600_000;
        continue;
      }
      const m = d.getUTCMinutes();
      const nm = this.min[m];
      if (nm < 0) {
        t = dayStart + (h + 1) * 3_600_000;
        continue;
      }
      if (nm !== m) {
        t = dayStart + h * 3_600_000 + nm * 60_000;
        continue;
      }
      const s = d.getUTCSeconds();
      const ns = this.sec[s];
      if (ns < 0) {
        t = dayStart + h * 3_600_000 + (m + 1) * 60_000;
        continue;
      }
      return dayStart + h * 3_600_000 + m * 60_000 + ns * 1000;
    }
    return undefined;
  }

  private dayMatches(year: number, month0: number, day: number, t: number): boolean {
    const key = Math.floor(t / DAY);
    const cached = this.dayCache.get(key);
    if (cached !== undefined) return cached;
    const last = daysInMonth(year, month0);
    const dow = new Date(Date.UTC(year, month0, day)).getUTCDay();
    const matchedDom = this.domValues[day] || (this.domLast && day === last);
    const matchedDow =
      (this.dowValues[dow] && (this.nthDay <= 0 || Math.ceil(day / 7) === this.nthDay)) ||
      (this.dowLast.length > 0 && day + 7 > last && this.dowLast.includes(dow));
    const result =
      (!this.domWildcard && !this.dowWildcard && (matchedDom || matchedDow)) ||
      (matchedDom && this.dowWildcard) ||
      (this.domWildcard && !this.dowWildcard && matchedDow);
    if (this.dayCache.size > 4096) this.dayCache.clear();
    this.dayCache.set(key, result);
    return result;
  }
}
