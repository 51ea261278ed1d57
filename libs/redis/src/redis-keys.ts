/**
 * Every Redis key cronbundle writes, in one place (ARCHITECTURE.md §7).
 * Nothing else builds key strings by hand.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Prefix handed to BullMQ, so queues live under the same namespace. */
  get bullPrefix(): string {
    return this.prefix;
  }
  job(id: string): string {
    return `${this.prefix}:job:${id}`;
  }
  get jobs(): string {
    return `${this.prefix}:jobs`;
  }
  /** Prefix of every job key; the registry scripts build `<jobPrefix><id>:dependants` inside Lua. */
  get jobPrefix(): string {
    return `${this.prefix}:job:`;
  }
  /** Set of the ids of jobs whose dependsOn contains `jobId` (must stay `job(id) + ':dependants'`). */
  jobDependants(jobId: string): string {
    return `${this.job(jobId)}:dependants`;
  }
  /** Present (value: index format version) once the dependants index was built from every record. */
  get jobDependantsIndexed(): string {
    return `${this.prefix}:jobs:dependants`;
  }
  get events(): string {
    return `${this.prefix}:events`;
  }
  /** Registry revision: INCR on every registry write, so a subscriber that missed events can resync. */
  get jobsRevision(): string {
    return `${this.prefix}:jobs:rev`;
  }
  /** Hash id -> content hash of the file-managed jobs, as the JOBS_DIR files last said. */
  get jobsFromFiles(): string {
    return `${this.prefix}:jobs:files`;
  }
  get leader(): string {
    return `${this.prefix}:leader`;
  }
  get leaderEpoch(): string {
    return `${this.prefix}:leader:epoch`;
  }
  /** Pub/sub channel: a leader published that it released the lease, so followers try at once. */
  get leaderReleased(): string {
    return `${this.prefix}:leader:released`;
  }
  runLock(jobId: string): string {
    return `${this.prefix}:lock:run:${jobId}`;
  }
  exec(id: string): string {
    return `${this.prefix}:exec:${id}`;
  }
  jobExecs(jobId: string): string {
    return `${this.prefix}:job:${jobId}:execs`;
  }
  /** Prefix of every execution hash; retention scripts build `<execPrefix><id>` inside Lua. */
  get execPrefix(): string {
    return `${this.prefix}:exec:`;
  }
  /** Capped list of an execution's log entries (must stay `exec(id) + ':logs'`, Lua relies on it). */
  execLogs(id: string): string {
    return `${this.exec(id)}:logs`;
  }
  /** Hash slot ms -> execution id: the one record of each scheduled slot of a job. */
  jobSlots(jobId: string): string {
    return `${this.prefix}:job:${jobId}:slots`;
  }
  /** Pub/sub channel: an execution id whose run must be cancelled by the worker running it. */
  get execCancel(): string {
    return `${this.prefix}:exec:cancel`;
  }
  /** The one run allowed to wait behind a held run lock (overlap policy `queue`). */
  runLockWaiter(jobId: string): string {
    return `${this.prefix}:lock:run:${jobId}:waiting`;
  }
  get audit(): string {
    return `${this.prefix}:audit`;
  }
  /** What the leader last applied: `{epoch, revision, at}`, written fenced. */
  get schedulerState(): string {
    return `${this.prefix}:scheduler:state`;
  }
  /** Hash job id -> slot ms up to which every slot is accounted, written fenced by the leader. */
  get slotWatermarks(): string {
    return `${this.prefix}:scheduler:watermarks`;
  }
  get workers(): string {
    return `${this.prefix}:workers`;
  }
}
