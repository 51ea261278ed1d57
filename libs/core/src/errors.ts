/** One problem with an input, located by a path such as `schedule.cron` or `notify[0].url`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/**
 * Base of every error the domain raises on purpose. `code` is stable and machine-readable; the api
 * maps each subclass to one HTTP status in a single exception filter.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input failed validation (HTTP 400). */
export class ValidationError extends DomainError {
  readonly code = 'validation';

  constructor(
    readonly details: ValidationIssue[],
    message = summarizeIssues(details),
  ) {
    super(message);
  }
}

/** The addressed entity does not exist (HTTP 404). */
export class NotFoundError extends DomainError {
  readonly code = 'not_found';

  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} not found`);
  }
}

/** The request conflicts with the current state: id taken, file-managed job, finished execution (HTTP 409). */
export class ConflictError extends DomainError {
  readonly code: string = 'conflict';

  constructor(
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

export interface LockInfo {
  runningExecutionId: string;
  startedAt: string;
  lockExpiresAt: string;
}

/** A run holds the job's lock and the overlap policy forbids another (HTTP 409 `{error:"locked"}`). */
export class LockedError extends ConflictError {
  override readonly code = 'locked';
  readonly runningExecutionId: string;
  readonly startedAt: string;
  readonly lockExpiresAt: string;

  constructor(
    readonly jobId: string,
    lock: LockInfo,
  ) {
    super(`job ${jobId} is locked by execution ${lock.runningExecutionId}`, 'locked');
    this.runningExecutionId = lock.runningExecutionId;
    this.startedAt = lock.startedAt;
    this.lockExpiresAt = lock.lockExpiresAt;
  }
}

/** An optimistic-concurrency check failed: the caller's version is stale (HTTP 412). */
export class PreconditionFailedError extends DomainError {
  readonly code = 'precondition_failed';

  constructor(
    message: string,
    readonly expectedVersion?: number,
    readonly actualVersion?: number,
  ) {
    super(message);
  }
}

function summarizeIssues(details: ValidationIssue[]): string {
  if (details.length === 0) return 'validation failed';
  const shown = details.slice(0, 3).map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
  const more = details.length > 3 ? ` (+${details.length - 3} more)` : '';
  return `${shown.join('; ')}${more}`;
}
