import type { ExecutionLogEntry, LogLevel, StageName } from '@cronbundle/core';
import { StaleAttemptError, type AttemptWrites, type ExecutionStore } from '@cronbundle/executions';

/** How long a buffered log line or stage timing may wait before it is written (ms). */
export const JOURNAL_FLUSH_MS = 1_000;

/**
 * The record writes of one running attempt, held in memory: log lines (in order, newest
 * `maxEntries` kept, as the record keeps) and stage timings. They reach Redis in one fenced
 * `append` at most `flushMs` after the first one was buffered (so a live record lags by at most
 * that), and whatever is left goes with the attempt's final write (`take()` → `finish`/`requeue`).
 * A run shorter than `flushMs` therefore writes nothing between its start and its finish.
 *
 * A flush refused because the attempt is no longer current calls `onStale` once and stops; the
 * attempt's final write is refused the same way. A flush that fails otherwise (Redis down) puts
 * its entries back, for the next flush or the final write.
 */
export class RunJournal {
  private logs: ExecutionLogEntry[] = [];
  private stages: Partial<Record<StageName, number>> = {};
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: Pick<ExecutionStore, 'append'>,
    private readonly executionId: string,
    private readonly attempt: number,
    private readonly options: { flushMs?: number; maxEntries?: number; onStale?: (err: Error) => void } = {},
  ) {}

  log(level: LogLevel, component: string, message: string): void {
    if (this.closed) return;
    this.logs.push({ ts: new Date().toISOString(), level, component, message });
    const max = this.options.maxEntries ?? 500;
    if (this.logs.length > max) this.logs.splice(0, this.logs.length - max);
    this.arm();
  }

  stage(name: StageName, ms: number): void {
    if (this.closed) return;
    this.stages[name] = ms;
    this.arm();
  }

  /**
   * Stop flushing and hand over what is still buffered, after any flush in flight has settled (so
   * the final write comes after it, in order). Later `log`/`stage` calls are ignored.
   */
  async take(): Promise<AttemptWrites> {
    this.closed = true;
    this.disarm();
    await this.inFlight;
    return this.drain();
  }

  /** Stop without writing (the attempt ended some other way). */
  close(): void {
    this.closed = true;
    this.disarm();
  }

  private arm(): void {
    this.pending = true;
    if (this.timer || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.options.flushMs ?? JOURNAL_FLUSH_MS);
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    if (this.closed || !this.pending) return;
    const writes = this.drain();
    this.inFlight = this.store
      .append(this.executionId, this.attempt, writes)
      .then(
        () => undefined,
        (err: unknown) => {
          if (err instanceof StaleAttemptError) {
            this.closed = true;
            this.options.onStale?.(err);
            return;
          }
          // Not written: put the entries back in front of anything buffered meanwhile.
          this.logs = [...(writes.logs ?? []), ...this.logs];
          this.stages = { ...writes.stages, ...this.stages };
          this.pending = true;
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        if (!this.closed && this.pending) this.arm();
      });
  }

  private drain(): AttemptWrites {
    const writes: AttemptWrites = { logs: this.logs, stages: this.stages };
    this.logs = [];
    this.stages = {};
    this.pending = false;
    return writes;
  }
}
