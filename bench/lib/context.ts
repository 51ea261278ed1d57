import type { Redis } from 'ioredis';
import type { ResultRow } from './stats';

export interface BenchContext {
  quick: boolean;
  /** Pass --cpu-prof to cronbundle processes and summarise the profiles. */
  profile: boolean;
  /**
   * What-if, not shipped code: no-op-stage workers look dependants up by index instead of
   * scanning the registry (bench/procs/noop-worker.ts). Rows say so.
   */
  dependentsIndex: boolean;
  /** Where profiles and results go. */
  resultsDir: string;
  redisUrl: string;
  /** Admin connection to the bench's private Redis. */
  redis: Redis;
  /** Figures one scenario measures and another reuses (e.g. raw no-op jobs/s). */
  shared: Record<string, number>;
  log(message: string): void;
}

export interface ScenarioResult {
  rows: ResultRow[];
  /** Everything measured, for bench/results/latest.json. */
  details: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  /** One line: what it measures. */
  what: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
