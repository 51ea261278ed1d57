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
  get audit(): string {
    return `${this.prefix}:audit`;
  }
  get workers(): string {
    return `${this.prefix}:workers`;
  }
}
