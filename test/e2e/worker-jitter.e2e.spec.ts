import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { jitterDelayMs } from '@cronbundle/core';
import { ExecutionStore, type Execution } from '@cronbundle/executions';
import { RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { AppProcess, connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';

const JITTER_SECONDS = 2;
/** Start after slot + jitter: polling the delayed set, picking the run up, reading the definition. */
const START_MARGIN_MS = 1500;

/**
 * `schedule.jitterSeconds` with the real scheduler and worker: every slot runs once, starting in
 * [slot + jitter, slot + jitter + margin] where jitter is the deterministic per-(job, slot) delay,
 * and the execution records it.
 */
describe('jitter of scheduled runs (built scheduler + worker, real Redis)', () => {
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const uploadDir = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-jitter-'));
  const processes: AppProcess[] = [];
  let redis: Redis;

  beforeAll(() => {
    redis = connectTestRedis();
  });
  afterAll(async () => {
    processes.forEach((p) => p.kill());
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  it('each slot runs once, delayed by its recorded jitter', async () => {
    const registry = new JobRegistry(redis, keys);
    const store = new ExecutionStore(redis, keys);
    await registry.create({
      id: 'jittery',
      schedule: { cron: '*/3 * * * * *', jitterSeconds: JITTER_SECONDS },
      overlapPolicy: 'allow',
      retry: { attempts: 1, backoffSeconds: 0 },
      spec: {
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'SupportBundle',
        spec: { hostCollectors: [{ run: { collectorName: 'hi', command: 'echo', args: ['hi'] } }] },
      },
    });
    const env = {
      REDIS_URL: testRedisUrl(),
      CRONBUNDLE_PREFIX: prefix,
      UPLOAD_DEFAULT_URL: pathToFileURL(uploadDir).href,
      COLLECT_ALLOW_RUN: 'true',
      LOG_LEVEL: 'warn',
    };
    for (const app of ['worker', 'scheduler'] as const) {
      const p = await AppProcess.start(app, { ...env, INSTANCE_ID: `${app}-jitter` });
      processes.push(p);
      await p.waitForStatus('/health/ready', 200, 30_000);
    }
    const [worker, scheduler] = processes;
    // Slots from here on have a worker waiting for them (an earlier one may wait for its boot).
    const readyAt = Date.now();

    const scheduled = async () =>
      (await store.listForJob('jittery', { limit: 100 })).items.filter((e) => e.trigger === 'schedule');
    const measured = (runs: Execution[]) =>
      runs.filter((e) => e.status === 'succeeded' && Date.parse(e.scheduledFor!) >= readyAt);
    await waitFor(async () => measured(await scheduled()).length >= 4, {
      timeoutMs: 40_000,
      intervalMs: 200,
      what: 'four scheduled runs after the start to succeed',
    }).catch(async (err: Error) => {
      throw new Error(
        `${err.message}\n${JSON.stringify(await scheduled(), null, 1)}\nscheduler: ${scheduler.tail()}\nworker: ${worker.tail()}`,
      );
    });
    await registry.setEnabled('jittery', false);

    const runs = (await scheduled()).filter((e) => e.status === 'succeeded');
    const slots = runs.map((e) => Date.parse(e.scheduledFor!)).sort((a, b) => a - b);
    expect(new Set(slots).size).toBe(slots.length);
    // No slot lost between the first and the last: one run every 3 s.
    expect(slots.slice(1).map((s, i) => s - slots[i])).toEqual(slots.slice(1).map(() => 3000));
    const seen = measured(runs).map((e) => {
      const slot = Date.parse(e.scheduledFor!);
      const expected = jitterDelayMs({ jitterSeconds: JITTER_SECONDS }, slot, 'jittery');
      const startDelay = Date.parse(e.startedAt!) - slot;
      return { slot: e.scheduledFor, jitterMs: e.jitterMs ?? 0, expected, startDelay, attempts: e.attempts.length };
    });
    for (const s of seen) {
      expect(s.jitterMs).toBe(s.expected);
      expect(s.jitterMs).toBeLessThanOrEqual(JITTER_SECONDS * 1000);
      // BullMQ promotes delayed jobs by timestamp; a few ms of clock rounding are tolerated.
      expect(s.startDelay).toBeGreaterThanOrEqual(s.jitterMs - 20);
      expect(s.startDelay).toBeLessThanOrEqual(s.jitterMs + START_MARGIN_MS);
      // The delay counted no attempt.
      expect(s.attempts).toBe(1);
    }
    // The delays differ per slot (deterministic, not constant).
    expect(new Set(seen.map((s) => s.jitterMs)).size).toBeGreaterThan(1);
    const logs = (await store.get(runs[0].id, { logs: true }))!.logs!.map((l) => l.message);
    if ((runs[0].jitterMs ?? 0) > 0) expect(logs).toContain(`start delayed by jitter: ${runs[0].jitterMs} ms`);
  });
});
