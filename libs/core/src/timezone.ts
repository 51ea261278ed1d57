const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `name` is an IANA zone this runtime knows (Intl is the source of truth, as for the maths). */
export function isValidTimeZone(name: string): boolean {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Offset of `timeZone` from UTC at instant `ms`, in ms (wall = instant + offset). Second precision:
 * historical LMT offsets have seconds, and cron never needs less.
 */
export function zoneOffsetMs(timeZone: string, ms: number): number {
  const instant = Math.floor(ms / 1000) * 1000;
  const parts = formatter(timeZone).formatToParts(instant);
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const p of parts) {
    switch (p.type) {
      case 'year':
        year = Number(p.value);
        break;
      case 'month':
        month = Number(p.value);
        break;
      case 'day':
        day = Number(p.value);
        break;
      case 'hour':
        hour = Number(p.value);
        break;
      case 'minute':
        minute = Number(p.value);
        break;
      case 'second':
        second = Number(p.value);
        break;
      case 'era':
        bc = p.value === 'BC' || p.value === 'B';
        break;
    }
  }
  const wall = Date.UTC(bc ? 1 - year : year, month - 1, day, hour, minute, second);
  return wall - instant;
}

/** Offsets around an instant: constant (`at` undefined), or one transition at `at` from `before` to `after`. */
export interface OffsetWindow {
  before: number;
  after: number;
  at?: number;
}

interface KnownPiece extends OffsetWindow {
  from: number;
  to: number;
}

/**
 * Offsets of one zone over windows [t - reach, t + reach], memoised: Intl is the slow part of the slot
 * maths (and much slower still inside jest's VM), and consecutive calls ask about nearby instants.
 * Assumes at most one transition per window, which holds for current tzdata with a reach of a day.
 */
export class ZoneOffsets {
  private static readonly zones = new Map<string, ZoneOffsets>();
  private readonly known: KnownPiece[] = [];

  private constructor(readonly timeZone: string) {}

  static of(timeZone: string): ZoneOffsets {
    let z = ZoneOffsets.zones.get(timeZone);
    if (!z) ZoneOffsets.zones.set(timeZone, (z = new ZoneOffsets(timeZone)));
    return z;
  }

  around(t: number, reach: number): OffsetWindow {
    const from = t - reach;
    const to = t + reach;
    for (const k of this.known) if (k.from <= from && k.to >= to) return k;
    const before = zoneOffsetMs(this.timeZone, from);
    const after = zoneOffsetMs(this.timeZone, to);
    const at = before === after ? undefined : this.findTransition(from, to, before);
    this.remember({ from, to, before, after, at });
    return { before, after, at };
  }

  private findTransition(from: number, to: number, before: number): number {
    for (const k of this.known) {
      if (k.at !== undefined && k.at > from && k.at <= to && k.before === before) return k.at;
    }
    // Binary search to the second: off(lo) === before, off(hi) !== before.
    let lo = Math.floor(from / 1000);
    let hi = Math.ceil(to / 1000);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (zoneOffsetMs(this.timeZone, mid * 1000) === before) lo = mid;
      else hi = mid;
    }
    return hi * 1000;
  }

  /** Merge with an overlapping piece that says the same thing, so a sliding window keeps hitting. */
  private remember(piece: KnownPiece): void {
    for (const k of this.known) {
      if (
        k.at === piece.at &&
        k.before === piece.before &&
        k.after === piece.after &&
        k.from <= piece.to &&
        piece.from <= k.to
      ) {
        k.from = Math.min(k.from, piece.from);
        k.to = Math.max(k.to, piece.to);
        return;
      }
    }
    if (this.known.length >= 32) this.known.shift();
    this.known.push(piece);
  }
}
