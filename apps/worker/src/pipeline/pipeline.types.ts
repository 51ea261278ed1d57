import type { ExecutionRecord, JobDefinition, LogLevel, StageName } from '@cronbundle/core';

/** Everything a stage may know about the run it is part of. */
export interface RunContext {
  job: JobDefinition;
  executionId: string;
  attempt: number;
  /** Slot (epoch ms) of the run; names the bundle. */
  scheduledFor: number;
  /** Aborted on cancel, timeout, lost run lock or shutdown; every stage must honour it. */
  signal: AbortSignal;
  /** A private directory for this attempt, removed after the run. */
  workDir: string;
  log(level: LogLevel, component: string, message: string): void;
}

/** What collect hands on: the archive on local disk and what the collectors did. */
export interface CollectedBundle {
  file: string;
  name: string;
  sizeBytes: number;
  sha256: string;
  files: number;
  collectors: { total: number; failed: number };
}

export type AnalysisSummary = NonNullable<ExecutionRecord['analysis']>;

export interface CollectStage {
  collect(ctx: RunContext): Promise<CollectedBundle>;
}
export interface AnalyzeStage {
  /** Undefined when the job does not analyse. */
  analyze(ctx: RunContext, bundle: CollectedBundle): Promise<AnalysisSummary | undefined>;
}
export interface RedactStage {
  redact(ctx: RunContext, bundle: CollectedBundle): Promise<void>;
}
export interface BundleStage {
  /** The record's `bundle` field, named `<jobId>-<slot>-<executionId>.tar.gz`. */
  describe(ctx: RunContext, bundle: CollectedBundle): Promise<NonNullable<ExecutionRecord['bundle']>>;
}
export interface UploadStage {
  /** Undefined when there is nowhere to upload to. */
  upload(ctx: RunContext, bundle: CollectedBundle): Promise<{ url: string } | undefined>;
}
export interface NotifyStage {
  notify(ctx: RunContext, event: string, record: Pick<ExecutionRecord, 'id' | 'status' | 'error'>): Promise<void>;
}

/** Injection tokens, one per stage, so later work swaps an implementation without touching the runtime. */
export const COLLECT_STAGE = Symbol('COLLECT_STAGE');
export const ANALYZE_STAGE = Symbol('ANALYZE_STAGE');
export const REDACT_STAGE = Symbol('REDACT_STAGE');
export const BUNDLE_STAGE = Symbol('BUNDLE_STAGE');
export const UPLOAD_STAGE = Symbol('UPLOAD_STAGE');
export const NOTIFY_STAGE = Symbol('NOTIFY_STAGE');

/** A failure inside a stage, so the record says where the run broke. */
export class StageError extends Error {
  constructor(
    readonly stage: StageName,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'StageError';
  }
}
