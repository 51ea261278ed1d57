import type { OverlapPolicy } from '@cronbundle/core';
import type { Rng } from './random';

/** Intervals (seconds) that divide a minute, so `o-59/k` in the seconds field fires every k s. */
const INTERVALS = [2, 3, 4, 5, 6, 10] as const;
const POLICIES: readonly OverlapPolicy[] = ['skip', 'allow', 'queue', 'cancel-previous'];

export type ChaosJobKind = 'short' | 'long' | 'retry';

export interface ChaosJob {
  id: string;
  kind: ChaosJobKind;
  intervalSeconds: number;
  policy: OverlapPolicy;
  body: Record<string, unknown>;
}

/** A destination no uploader can write to: every attempt fails at the upload stage, so BullMQ retries. */
export const FAILING_UPLOAD_URL = 'file:///dev/null/not-a-directory/';

/**
 * The seeded job mix: 6-field crons every 2–10 s with an offset, every overlap policy in turn;
 * 70 % short runs (`data` collector), 20 % long runs (`run: sleep`, often longer than the
 * interval, so overlap policies act), 10 % failing uploads with 2–3 attempts (retries).
 */
export function chaosJobs(rng: Rng, count: number): ChaosJob[] {
  const jobs: ChaosJob[] = [];
  for (let i = 0; i < count; i++) {
    const intervalSeconds = rng.pick(INTERVALS);
    const offset = rng.int(0, intervalSeconds - 1);
    const policy = POLICIES[i % POLICIES.length];
    const roll = rng.next();
    const kind: ChaosJobKind = roll < 0.7 ? 'short' : roll < 0.9 ? 'long' : 'retry';
    const id = `chaos-${String(i).padStart(3, '0')}-${kind}-${policy}`;
    const body: Record<string, unknown> = {
      id,
      schedule: { cron: `${offset}-59/${intervalSeconds} * * * * *` },
      overlapPolicy: policy,
      timeoutSeconds: 60,
      // Keep every record and bundle of the run: the ledger reads them all.
      retention: { executions: 100_000, days: 1, bundles: 100_000 },
      redact: false,
      analyze: false,
    };
    if (kind === 'short') {
      body.retry = { attempts: 1, backoffSeconds: 0 };
      body.spec = spec({ collectors: [{ data: { collectorName: 'note', name: 'chaos', data: `job ${id}` } }] });
    } else if (kind === 'long') {
      const seconds = Math.min(12, Math.max(1, Math.round(intervalSeconds * (0.5 + rng.next() * 1.5))));
      body.retry = { attempts: 2, backoffSeconds: 1 };
      body.spec = spec({
        hostCollectors: [{ run: { collectorName: 'nap', command: 'sleep', args: [String(seconds)] } }],
      });
    } else {
      body.retry = { attempts: rng.int(2, 3), backoffSeconds: rng.int(0, 1) };
      body.upload = { url: FAILING_UPLOAD_URL };
      body.spec = spec({ collectors: [{ data: { collectorName: 'note', name: 'chaos', data: `job ${id}` } }] });
    }
    jobs.push({ id, kind, intervalSeconds, policy, body });
  }
  return jobs;
}

function spec(inner: Record<string, unknown>) {
  return { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: inner };
}
