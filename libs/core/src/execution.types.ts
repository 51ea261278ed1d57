import { z } from 'zod';

/** ARCHITECTURE.md §3. `skipped` and `missed` are slot accounting: the record's reason says why. */
export const EXECUTION_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'skipped',
  'missed',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export const executionStatusSchema = z.enum(EXECUTION_STATUSES);

/** A status after which the record no longer changes (except re-upload details). */
export const TERMINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'skipped',
  'missed',
];
export function isTerminalStatus(status: ExecutionStatus): boolean {
  return TERMINAL_EXECUTION_STATUSES.includes(status);
}

export const TRIGGERS = ['schedule', 'manual', 'catchup', 'dependency'] as const;
export type Trigger = (typeof TRIGGERS)[number];
export const triggerSchema = z.enum(TRIGGERS);

/** Pipeline stages in run order (schedule is not a stage of the run itself). */
export const STAGE_NAMES = ['collect', 'analyze', 'redact', 'bundle', 'upload', 'notify'] as const;
export type StageName = (typeof STAGE_NAMES)[number];
export const stageNameSchema = z.enum(STAGE_NAMES);

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ANALYSIS_OUTCOMES = ['pass', 'warn', 'fail'] as const;
export type AnalysisOutcome = (typeof ANALYSIS_OUTCOMES)[number];

export interface StageTiming {
  ms: number;
}

export interface AnalysisResult {
  checkName: string;
  outcome: AnalysisOutcome;
  message: string;
}

export interface ExecutionLogEntry {
  ts: string;
  level: LogLevel;
  component: string;
  message: string;
}

export interface ExecutionError {
  stage: StageName | 'schedule' | 'lock' | 'internal';
  message: string;
}

export interface ExecutionRecord {
  /** ULID: sortable by creation time. */
  id: string;
  jobId: string;
  trigger: Trigger;
  /** The slot (cron time, before jitter) for schedule/catchup runs; the request time otherwise. */
  scheduledFor: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  status: ExecutionStatus;
  /** Why a run was skipped/missed/cancelled, e.g. "overlap policy skip: execution 01J... running". */
  reason?: string | null;
  attempt: number;
  /** `<hostname>:<pid>` of the worker process. */
  workerId: string | null;
  stages: Partial<Record<StageName, StageTiming>>;
  collectors?: { total: number; failed: number };
  analysis?: { pass: number; warn: number; fail: number; results: AnalysisResult[] };
  bundle?: { name: string; sizeBytes: number; sha256: string; files: number };
  changes?: { new: string[]; resolved: string[]; changed: string[] };
  upload?: { url: string; ms: number };
  error: ExecutionError | null;
  logs?: ExecutionLogEntry[];
}
