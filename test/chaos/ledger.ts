import { slotsBetween, type ScheduleLike } from '@cronbundle/core';

/**
 * The slot ledger: after a chaos run, every cron slot of every job inside its window must have
 * exactly one execution record, and that record must be final: ran (succeeded, failed, timed_out,
 * cancelled), skipped with a reason, or missed with a reason. Pure: the chaos driver gathers the
 * inputs (API, upload directory, its own trigger log), this file judges them.
 */

/** What the checker needs of an execution record (the API's shape). */
export interface LedgerExecution {
  id: string;
  jobId: string;
  trigger: string;
  status: string;
  scheduledFor: string | null;
  reason?: string | null;
  attempts: { attempt: number; workerId: string; status: string; error?: string }[];
}

export interface LedgerJob {
  id: string;
  schedule: ScheduleLike;
  /** Slots strictly after this (ms) are judged: the job's window start (see the edge rule). */
  fromMs: number;
}

export interface TriggerCall {
  jobId: string;
  at: number;
  /** HTTP status, or 0 for a network error / timeout. */
  status: number;
  /** True while the driver had Redis shut down (SHUTDOWN sent, not yet ready again). */
  redisDown: boolean;
  executionId?: string;
}

export interface LedgerInput {
  jobs: LedgerJob[];
  /** Definitions the api lists at the end (ids). */
  definitionsAtEnd: string[];
  /** Every execution of every job, as read at the end. */
  executions: LedgerExecution[];
  /** Slots at or before this time (ms) are judged. */
  toMs: number;
  triggers: TriggerCall[];
  /**
   * Intervals (ms) during and shortly after an injected fault. A missed slot outside all of them
   * happened while every process was up: not a violation (workers may simply have been saturated),
   * but counted apart, as it is the first place to look when `missed` grows.
   */
  disturbed?: { from: number; to: number }[];
  /** Bundle file names found at the upload destination, per job id (optional). */
  bundles?: Map<string, string[]>;
}

export type Outcome = 'ran' | 'skipped' | 'missed';

export interface Violation {
  kind:
    | 'lost'
    | 'doubled'
    | 'double-success'
    | 'duplicate-bundle'
    | 'stuck'
    | 'no-reason'
    | 'off-slot'
    | 'definition-lost'
    | 'trigger';
  jobId: string;
  detail: string;
}

export interface LedgerReport {
  jobs: number;
  slots: number;
  ran: number;
  skipped: number;
  missed: number;
  /** Missed slots outside every `disturbed` interval. */
  missedCalm: number;
  lost: number;
  doubled: number;
  stuck: number;
  redelivered: number;
  retried: number;
  manual: { total: number; byStatus: Record<string, number> };
  catchup: number;
  skippedReasons: Record<string, number>;
  missedReasons: Record<string, number>;
  ranStatuses: Record<string, number>;
  violations: Violation[];
}

const RAN = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);
/** The error a redelivery writes on the dead worker's attempt (docs/WORKER.md, crash recovery). */
const REDELIVERED = /stopped before finishing/;
const SLOT_TRIGGERS = new Set(['schedule', 'catchup']);
/** 202 accepted, 409 locked: the two answers a trigger may get. */
const TRIGGER_OK = new Set([202, 409]);
/** While Redis is shut down the api cannot store a run: 503 is an honest answer then, 500 is not. */
const TRIGGER_OK_REDIS_DOWN = new Set([202, 409, 503]);

export function outcomeOf(status: string): Outcome | 'open' {
  if (RAN.has(status)) return 'ran';
  if (status === 'skipped') return 'skipped';
  if (status === 'missed') return 'missed';
  return 'open';
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** `<jobId>-<YYYY-MM-DDTHH-MM-SSZ>-<executionId>.tar.gz` → executionId. */
export function bundleExecutionId(name: string): string | undefined {
  return /-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-([0-9A-Za-z]+)\.tar\.gz$/.exec(name)?.[1];
}

export function checkLedger(input: LedgerInput): LedgerReport {
  const report: LedgerReport = {
    jobs: input.jobs.length,
    slots: 0,
    ran: 0,
    skipped: 0,
    missed: 0,
    missedCalm: 0,
    lost: 0,
    doubled: 0,
    stuck: 0,
    redelivered: 0,
    retried: 0,
    manual: { total: 0, byStatus: {} },
    catchup: 0,
    skippedReasons: {},
    missedReasons: {},
    ranStatuses: {},
    violations: [],
  };
  const violate = (kind: Violation['kind'], jobId: string, detail: string) =>
    report.violations.push({ kind, jobId, detail });

  const byJob = new Map<string, LedgerExecution[]>();
  for (const e of input.executions) {
    const list = byJob.get(e.jobId) ?? [];
    list.push(e);
    byJob.set(e.jobId, list);
  }
  const atEnd = new Set(input.definitionsAtEnd);

  for (const job of input.jobs) {
    if (!atEnd.has(job.id))
      violate('definition-lost', job.id, 'created by the driver, not listed by the api at the end');
    const slots = slotsBetween(job.schedule, job.fromMs, input.toMs, 1_000_000);
    const inWindow = new Set(slots);
    const records = new Map<number, LedgerExecution[]>();
    for (const e of byJob.get(job.id) ?? []) {
      report.redelivered += e.attempts.filter((a) => REDELIVERED.test(a.error ?? '')).length;
      const failedTries = e.attempts.filter((a) => a.status === 'failed' && !REDELIVERED.test(a.error ?? ''));
      if (e.attempts.length > 1 && failedTries.length) report.retried++;
      if (e.attempts.filter((a) => a.status === 'succeeded').length > 1)
        violate('double-success', job.id, `execution ${e.id} has more than one succeeded attempt`);
      if (!SLOT_TRIGGERS.has(e.trigger)) continue;
      const slot = e.scheduledFor ? Date.parse(e.scheduledFor) : NaN;
      if (!(slot > job.fromMs && slot <= input.toMs)) continue;
      if (!inWindow.has(slot)) {
        violate(
          'off-slot',
          job.id,
          `execution ${e.id} (${e.trigger}) is for ${e.scheduledFor}, not a slot of the cron`,
        );
        continue;
      }
      const list = records.get(slot) ?? [];
      list.push(e);
      records.set(slot, list);
    }
    for (const slot of slots) {
      report.slots++;
      const at = new Date(slot).toISOString();
      const list = records.get(slot) ?? [];
      if (list.length === 0) {
        report.lost++;
        violate('lost', job.id, `slot ${at} has no execution record`);
        continue;
      }
      if (list.length > 1) {
        report.doubled++;
        violate('doubled', job.id, `slot ${at} has ${list.length} executions: ${list.map((e) => e.id).join(', ')}`);
      }
      const e = list[0];
      if (e.trigger === 'catchup') report.catchup++;
      const outcome = outcomeOf(e.status);
      if (outcome === 'open') {
        report.stuck++;
        violate('stuck', job.id, `slot ${at}: execution ${e.id} is still ${e.status}`);
        continue;
      }
      report[outcome]++;
      if (outcome === 'missed' && !(input.disturbed ?? []).some((w) => slot >= w.from && slot <= w.to))
        report.missedCalm++;
      if (outcome === 'ran') bump(report.ranStatuses, e.status);
      else {
        if (!e.reason) violate('no-reason', job.id, `slot ${at}: execution ${e.id} is ${e.status} without a reason`);
        bump(outcome === 'skipped' ? report.skippedReasons : report.missedReasons, e.reason ?? '(none)');
      }
    }
    // Work done twice shows at the destination even when the records look right.
    const known = new Set((byJob.get(job.id) ?? []).map((e) => e.id));
    const perExecution = new Map<string, number>();
    for (const name of input.bundles?.get(job.id) ?? []) {
      const id = bundleExecutionId(name);
      if (!id) continue;
      perExecution.set(id, (perExecution.get(id) ?? 0) + 1);
      if (!known.has(id)) violate('duplicate-bundle', job.id, `bundle ${name} belongs to no recorded execution`);
    }
    for (const [id, n] of perExecution)
      if (n > 1) violate('duplicate-bundle', job.id, `execution ${id} uploaded ${n} bundles`);
  }

  // Manual triggers: every answer 202 or 409; the runs they started must have ended.
  const manualRecords = new Map(input.executions.filter((e) => e.trigger === 'manual').map((e) => [e.id, e]));
  for (const call of input.triggers) {
    report.manual.total++;
    bump(report.manual.byStatus, call.status === 0 ? 'network error' : String(call.status));
    const ok = (call.redisDown ? TRIGGER_OK_REDIS_DOWN : TRIGGER_OK).has(call.status);
    if (!ok)
      violate(
        'trigger',
        call.jobId,
        `POST /jobs/${call.jobId}/trigger at ${new Date(call.at).toISOString()} answered ${call.status === 0 ? 'a network error' : call.status}${call.redisDown ? ' (Redis was shut down)' : ''}`,
      );
    if (call.status === 202 && call.executionId && !manualRecords.has(call.executionId))
      violate('lost', call.jobId, `manual execution ${call.executionId} (answered 202) has no record`);
  }
  // Every other run started before the end must have ended too, including one whose trigger was
  // answered with an error after its record was written.
  for (const e of input.executions) {
    if (SLOT_TRIGGERS.has(e.trigger) || outcomeOf(e.status) !== 'open') continue;
    if (e.scheduledFor && Date.parse(e.scheduledFor) > input.toMs) continue;
    report.stuck++;
    violate('stuck', e.jobId, `${e.trigger} execution ${e.id} is still ${e.status}`);
  }
  return report;
}
