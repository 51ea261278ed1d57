export {
  ConflictError,
  DomainError,
  LockedError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from './errors';
export type { LockInfo, ValidationIssue } from './errors';

export {
  CronSchedule,
  DEFAULT_DST_POLICY,
  cronProblems,
  jitterDelayMs,
  nextFireTimes,
  nextSlotAfter,
  slotsBetween,
  timezoneProblems,
} from './cron-schedule';
export type { DstPolicy, RepeatedTimePolicy, ScheduleLike, SkippedTimePolicy } from './cron-schedule';
export { isValidTimeZone } from './timezone';

export {
  JOB_ID_PATTERN,
  JOB_SOURCES,
  JOB_SYSTEM_FIELDS,
  NOTIFY_EVENTS,
  NOTIFY_FORMATS,
  OVERLAP_POLICIES,
  JOB_COLLECTORS,
  applyJobPatch,
  formatIssuePath,
  isSpecRef,
  jobDefinitionInputSchema,
  jobDefinitionPatchSchema,
  parseJobDefinition,
  zodIssues,
} from './job-definition.schema';
export type {
  InlineSpec,
  JobDefinition,
  JobDefinitionInput,
  JobDefinitionPatch,
  JobDefinitionSpec,
  JobSchedule,
  JobSource,
  JobSpecSource,
  JobSystemFields,
  LastExecutionSummary,
  NotifyEvent,
  OverlapPolicy,
  ParseJobOptions,
  SpecRef,
} from './job-definition.schema';

export {
  ANALYSIS_OUTCOMES,
  EXECUTION_STATUSES,
  LOG_LEVELS,
  STAGE_NAMES,
  TERMINAL_EXECUTION_STATUSES,
  TRIGGERS,
  executionStatusSchema,
  isTerminalStatus,
  stageNameSchema,
  triggerSchema,
} from './execution.types';
export type {
  AnalysisOutcome,
  AnalysisResult,
  ExecutionError,
  ExecutionLogEntry,
  ExecutionRecord,
  ExecutionStatus,
  LogLevel,
  StageName,
  StageTiming,
  Trigger,
} from './execution.types';
export { forEachBounded } from './bounded';
