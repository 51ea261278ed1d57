import { CronExpressionParser } from 'cron-parser';
import { CronWalls } from './cron-walls';
import { ValidationError, ValidationIssue } from './errors';
import { isValidTimeZone, ZoneOffsets } from './timezone';

export type RepeatedTimePolicy = 'once' | 'twice';
export type SkippedTimePolicy = 'shift' | 'skip';

export interface DstPolicy {
  /** Fall back: a wall time that happens twice fires at its first occurrence only, or at both. */
  repeated: RepeatedTimePolicy;
  /** Spring forward: a wall time that does not exist fires moved forward by the gap, or not at all. */
  skipped: SkippedTimePolicy;
}

export const DEFAULT_DST_POLICY: DstPolicy = { repeated: 'once', skipped: 'shift' };

/** The part of a job's schedule the slot maths needs; a parsed JobDefinition's `schedule` fits. */
export interface ScheduleLike {
  cron: string;
  timezone: string;
  dstPolicy?: Partial<DstPolicy>;
  /** ISO-8601; slots before it are not produced. */
  startAt?: string | null;
  /** ISO-8601; slots after it are not produced (a slot exactly at endAt is). */
  endAt?: string | null;
  jitterSeconds?: number;
}

const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly'];
const NAMES = /\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi;
const SECOND = 1000;
const DAY = 86_400_000;
/** Walls are searched no further than this; a cron that cannot fire before then has no next slot. */
const MAX_YEAR_MS = Date.UTC(2400, 0, 1);

/**
 * Checks a cron expression: 5 fields, or 6 with seconds first; month/day names; the macros
 * @yearly @annually @monthly @weekly @daily @hourly. Returns the problems (empty when valid).
 * Jenkins-style `H` is refused: it is random per parse, and slots must be the same on every scheduler.
 */
export function cronProblems(expression: unknown, path = 'cron'): ValidationIssue[] {
  if (typeof expression !== 'string' || expression.trim() === '') {
    return [{ path, message: 'must be a non-empty cron expression' }];
  }
  const expr = expression.trim();
  if (expr.length > 256) return [{ path, message: 'cron expression is too long (max 256 characters)' }];
  if (expr.startsWith('@')) {
    if (!MACROS.includes(expr)) {
      return [{ path, message: `unknown cron macro "${expr}" (supported: ${MACROS.join(' ')})` }];
    }
  } else {
    const fields = expr.split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      return [{ path, message: `cron expression must have 5 fields, or 6 with seconds (got ${fields.length})` }];
    }
    if (/H/i.test(expr.replace(NAMES, ''))) {
      return [{ path, message: 'hashed cron values (H) are not supported' }];
    }
  }
  try {
    CronExpressionParser.parse(expr, { tz: 'UTC', currentDate: 0 });
  } catch (err) {
    return [{ path, message: `invalid cron expression: ${(err as Error).message}` }];
  }
  return [];
}

export function timezoneProblems(timezone: unknown, path = 'timezone'): ValidationIssue[] {
  if (typeof timezone !== 'string' || !isValidTimeZone(timezone)) {
    return [
      { path, message: `unknown time zone ${JSON.stringify(timezone)} (use an IANA name such as Europe/London)` },
    ];
  }
  return [];
}

/**
 * A compiled schedule: cron + zone + DST policy + window. Pure and synchronous, cheap enough to serve
 * as a BullMQ repeatStrategy. All times are epoch ms; slots are whole seconds.
 *
 * Method: cron-parser parses; CronWalls enumerates matching *wall-clock* times (zone-free); this
 * class maps wall times to instants itself with Intl offsets, so the DST policy is ours and exact
 * rather than what the parser does natively ('once'/'shift' only, no way to ask for 'twice'/'skip').
 */
export class CronSchedule {
  readonly cron: string;
  readonly timezone: string;
  readonly dstPolicy: DstPolicy;
  readonly startMs: number | undefined;
  readonly endMs: number | undefined;
  private readonly walls: CronWalls;
  private readonly offsets: ZoneOffsets;

  private constructor(s: ScheduleLike) {
    this.cron = s.cron.trim();
    this.timezone = s.timezone;
    this.dstPolicy = { ...DEFAULT_DST_POLICY, ...(s.dstPolicy ?? {}) };
    this.startMs = s.startAt ? Date.parse(s.startAt) : undefined;
    this.endMs = s.endAt ? Date.parse(s.endAt) : undefined;
    this.walls = new CronWalls(CronExpressionParser.parse(this.cron, { tz: 'UTC', currentDate: 0 }));
    this.offsets = ZoneOffsets.of(this.timezone);
  }

  /** Throws ValidationError (paths `cron`, `timezone`, `startAt`, `endAt`, `dstPolicy`) on bad input. */
  static compile(s: ScheduleLike): CronSchedule {
    const issues = [...cronProblems(s.cron), ...timezoneProblems(s.timezone)];
    for (const key of ['startAt', 'endAt'] as const) {
      const v = s[key];
      if (v != null && Number.isNaN(Date.parse(v)))
        issues.push({ path: key, message: 'must be an ISO-8601 date-time' });
    }
    const p = s.dstPolicy;
    if (p?.repeated !== undefined && p.repeated !== 'once' && p.repeated !== 'twice') {
      issues.push({ path: 'dstPolicy.repeated', message: 'must be once or twice' });
    }
    if (p?.skipped !== undefined && p.skipped !== 'shift' && p.skipped !== 'skip') {
      issues.push({ path: 'dstPolicy.skipped', message: 'must be shift or skip' });
    }
    if (issues.length) throw new ValidationError(issues);
    return new CronSchedule(s);
  }

  /** The first slot strictly after `afterMs`, within [startAt, endAt]; undefined when there is none. */
  nextAfter(afterMs: number): number | undefined {
    let t = afterMs;
    if (this.startMs !== undefined && t < this.startMs) t = this.startMs - 1;
    for (let guard = 0; guard < 10_000; guard++) {
      if (this.endMs !== undefined && t >= this.endMs) return undefined;
      if (t > MAX_YEAR_MS) return undefined;
      const step = this.searchWindow(t);
      if (step.slot !== undefined) {
        return this.endMs !== undefined && step.slot > this.endMs ? undefined : step.slot;
      }
      t = step.resumeAfter;
    }
    return undefined;
  }

  /** Up to `count` slots strictly after `fromMs`, in order. */
  nextN(fromMs: number, count: number): number[] {
    const out: number[] = [];
    let t = fromMs;
    while (out.length < count) {
      const next = this.nextAfter(t);
      if (next === undefined) break;
      out.push(next);
      t = next;
    }
    return out;
  }

  /** Slots s with fromMs < s <= toMs, earliest first, at most `max`. */
  between(fromMs: number, toMs: number, max: number): number[] {
    const out: number[] = [];
    let t = fromMs;
    while (out.length < max) {
      const next = this.nextAfter(t);
      if (next === undefined || next > toMs) break;
      out.push(next);
      t = next;
    }
    return out;
  }

  /**
   * Looks for the first slot in (t, t + DAY]. Assumes at most one offset transition within a day
   * either side of t, which holds for every zone in current tzdata.
   */
  private searchWindow(t: number): { slot?: number; resumeAfter: number } {
    const limit = t + DAY;
    const win = this.offsets.around(t, DAY);
    if (win.at === undefined) {
      const wall = this.wallAfter(t + win.before);
      if (wall === undefined) return { resumeAfter: Infinity };
      const slot = wall - win.before;
      if (slot <= limit) return { slot, resumeAfter: slot };
      // Nothing within the day: jump close to the next wall. Offsets differ by less than a day, so no
      // slot can hide between here and two days before that wall's naive instant.
      return { resumeAfter: Math.max(limit, slot - 2 * DAY) };
    }

    const { at, before, after } = win;
    let best: number | undefined;
    const consider = (slot: number) => {
      if (slot > t && (best === undefined || slot < best)) best = slot;
    };
    // Instants before the transition, at the old offset: always fired (first occurrences included).
    if (t < at) {
      const w = this.wallAfter(t + before);
      if (w !== undefined && w - before < at) consider(w - before);
    }
    // Instants from the transition on, at the new offset. After a fall back, walls in
    // [at+after, at+before) are second occurrences: fired only under 'twice'.
    const fallBack = after < before;
    const firstWall = fallBack && this.dstPolicy.repeated === 'once' ? at + before : at + after;
    const w2 = this.wallAfter(Math.max(t + after, firstWall - SECOND));
    if (w2 !== undefined) consider(w2 - after);
    // Spring forward: walls in [at+before, at+after) do not exist; 'shift' reads them with the old
    // offset, which lands them `gap` later (02:30 -> 03:30), like Temporal's "compatible". A shifted
    // time equal to a real one is the same instant, so taking the minimum de-duplicates it.
    if (!fallBack && this.dstPolicy.skipped === 'shift') {
      const w3 = this.wallAfter(Math.max(t + before, at + before - SECOND));
      if (w3 !== undefined && w3 < at + after) consider(w3 - before);
    }
    if (best !== undefined && best <= limit) return { slot: best, resumeAfter: best };
    return { resumeAfter: limit };
  }

  /** The first cron wall time strictly after wall `w` (UTC-as-wall-clock ms). */
  private wallAfter(w: number): number | undefined {
    return this.walls.after(w, MAX_YEAR_MS);
  }
}

const compiled = new Map<string, CronSchedule>();

function compiledFor(s: ScheduleLike): CronSchedule {
  const key = `${s.cron}\u0000${s.timezone}\u0000${s.dstPolicy?.repeated ?? ''}\u0000${s.dstPolicy?.skipped ?? ''}\u0000${s.startAt ?? ''}\u0000${s.endAt ?? ''}`;
  let c = compiled.get(key);
  if (!c) {
    c = CronSchedule.compile(s);
    if (compiled.size >= 1000) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, c);
  }
  return c;
}

/** First slot strictly after `afterMs`; undefined when the window has ended. Usable as a BullMQ repeatStrategy. */
export function nextSlotAfter(schedule: ScheduleLike, afterMs: number): number | undefined {
  return compiledFor(schedule).nextAfter(afterMs);
}

/** The next `count` slots strictly after `fromMs`. */
export function nextFireTimes(schedule: ScheduleLike, fromMs: number, count: number): number[] {
  return compiledFor(schedule).nextN(fromMs, count);
}

/** Slots in (fromMs, toMs], earliest first, at most `max` (catch-up accounting). */
export function slotsBetween(schedule: ScheduleLike, fromMs: number, toMs: number, max = 1000): number[] {
  return compiledFor(schedule).between(fromMs, toMs, max);
}

/**
 * Delay in ms (0..jitterSeconds*1000) to add to a slot's run. Deterministic in (seed, slot), so a
 * retried enqueue of the same slot gets the same delay; seed it with the job id.
 */
export function jitterDelayMs(schedule: Pick<ScheduleLike, 'jitterSeconds'>, slotMs: number, seed: string): number {
  const spread = Math.floor((schedule.jitterSeconds ?? 0) * 1000);
  if (spread <= 0) return 0;
  return Math.floor((hash53(`${seed}\u0000${slotMs}`) / 2 ** 53) * (spread + 1));
}

/** cyrb53: a fast, well-mixed 53-bit string hash (not cryptographic; jitter only needs spread). */
function hash53(str: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
