export { AuditLog, stripSecrets } from './audit-log';
export type { AuditEntry, AuditInput } from './audit-log';
export { ExecutionStore, StaleAttemptError } from './execution-store';
export type {
  AttemptWrites,
  Execution,
  ExecutionAttempt,
  ExecutionDetails,
  ExecutionReupload,
  ExecutionStoreOptions,
  Retention,
  StartResult,
} from './execution-store';
export { EXECUTION_ID_PATTERN, newExecutionId } from './execution-id';
export { ExecutionsModule } from './executions.module';
