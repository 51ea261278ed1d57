import type { LedgerReport, Violation } from './ledger';

const MAX_LISTED = 25;

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

function counts(map: Record<string, number>): string {
  const entries = Object.entries(map).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([k, n]) => `${n} ${k}`).join('; ') : '-';
}

/** The summary printed at the end of a chaos run (and pasted into docs/RELIABILITY.md). */
export function formatReport(
  report: LedgerReport,
  faults: Record<string, number>,
  args: { seed: number; minutes: number; jobs: number },
): string {
  const verdict = report.violations.length === 0 ? 'PASS' : `FAIL (${report.violations.length} violations)`;
  const byKind = report.violations.reduce<Record<string, number>>(
    (m, v) => ({ ...m, [v.kind]: (m[v.kind] ?? 0) + 1 }),
    {},
  );
  const lines = [
    `slot ledger — seed ${args.seed}, ${args.minutes} min, ${args.jobs} jobs: ${verdict}`,
    table([
      ['slots judged', String(report.slots)],
      ['ran', `${report.ran} (${counts(report.ranStatuses)})`],
      ['skipped', `${report.skipped} (${counts(report.skippedReasons)})`],
      ['missed', `${report.missed} (${counts(report.missedReasons)})`],
      ['  of which in calm time', `${report.missedCalm} (no fault within the previous 30 s)`],
      ['caught up', String(report.catchup)],
      ['lost', String(report.lost)],
      ['doubled', String(report.doubled)],
      ['stuck (not final)', String(report.stuck)],
      ['redelivered attempts', String(report.redelivered)],
      ['retried executions', String(report.retried)],
      ['manual triggers', `${report.manual.total} (${counts(report.manual.byStatus)})`],
      ['faults injected', counts(faults)],
      ['violations', counts(byKind)],
    ]),
  ];
  if (report.violations.length) {
    lines.push('', `violations (first ${Math.min(MAX_LISTED, report.violations.length)}):`);
    lines.push(...report.violations.slice(0, MAX_LISTED).map((v: Violation) => `  ${v.kind} ${v.jobId}: ${v.detail}`));
  }
  return lines.join('\n');
}
