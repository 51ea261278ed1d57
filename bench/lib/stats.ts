/** Pure helpers of the benchmark suite (unit-tested in bench/stats.spec.ts). */

/** Nearest-rank percentile (p in 0..100) of a list of numbers; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile must be 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * How a scenario's figure compares with its goal. `higher`: bigger is better (throughput ratio),
 * the goal is a minimum; `lower`: smaller is better (latency, bytes), the goal is a maximum.
 */
export interface Goal {
  better: 'higher' | 'lower';
  /** The threshold, in the same unit as the figure the goal is checked on. */
  limit: number;
  /** As shown in the table, e.g. "≥ 0.5× raw". */
  text: string;
}

export interface ResultRow {
  scenario: string;
  /** cronbundle's figure, with unit, as shown. */
  cronbundle: string;
  /** raw BullMQ's figure, or "n/a" where raw BullMQ has no equivalent. */
  raw: string;
  /**
   * cronbundle ÷ raw BullMQ of the figure the goal is about: a rate (runs/s, defs/s: higher is
   * better) or a time/size (lower is better); the goal column says which. Undefined: no raw figure.
   */
  ratio?: number;
  goal: string;
  /** undefined: not measured (e.g. skipped in --quick); null: the row has no goal. */
  met?: boolean | null;
  notes?: string;
}

/** Whether `value` meets `goal`. */
export function meets(value: number, goal: Goal): boolean {
  if (!Number.isFinite(value)) return false;
  return goal.better === 'higher' ? value >= goal.limit : value <= goal.limit;
}

/** A figure with at most `digits` decimals (significant digits below 0.1), without trailing zeros. */
export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  // Small figures (a ratio of 0.002) keep two significant digits instead of rounding to 0.
  if (abs > 0 && abs < 0.1) return String(Number(value.toPrecision(digits)));
  const places = abs >= 100 ? 0 : abs >= 10 ? Math.min(1, digits) : digits;
  return String(Number(value.toFixed(places)));
}

export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  if (bytes >= 1024 * 1024) return `${fmt(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${fmt(bytes / 1024)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** A markdown table: scenario | cronbundle | raw BullMQ | ratio | goal | met? */
export function markdownTable(rows: readonly ResultRow[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '| scenario | cronbundle | raw BullMQ | ratio | goal | met? |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) =>
      [
        r.scenario,
        r.cronbundle,
        r.raw,
        r.ratio === undefined ? '–' : `${fmt(r.ratio)}×`,
        r.goal,
        r.met === undefined ? 'not measured' : r.met === null ? '–' : r.met ? 'yes' : '**no**',
      ]
        .map(cell)
        .join(' | '),
    ),
  ];
  return lines.map((l) => (l.startsWith('|') ? l : `| ${l} |`)).join('\n');
}

/** Per-command difference of two `INFO commandstats` snapshots (calls), largest first. */
export function commandstatsDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): { command: string; calls: number }[] {
  return Object.entries(after)
    .map(([command, calls]) => ({ command, calls: calls - (before[command] ?? 0) }))
    .filter((c) => c.calls > 0)
    .sort((a, b) => b.calls - a.calls || a.command.localeCompare(b.command));
}

/** Parse the text of `INFO commandstats` into command → calls. */
export function parseCommandstats(info: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}
