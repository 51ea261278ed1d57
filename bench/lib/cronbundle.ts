import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobDefinition } from '@cronbundle/core';
import { RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { QueueName, runJobOptions } from '@cronbundle/queue';
import { commandstats } from './harness';
import { commandstatsDelta } from './stats';

/** A BullMQ connection of the bench driver (BullMQ wants maxRetriesPerRequest null). */
export function bullConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

export function registryOf(redis: Redis, prefix: string): { registry: JobRegistry; keys: RedisKeys } {
  const keys = new RedisKeys(prefix);
  return { registry: new JobRegistry(redis, keys), keys };
}

/** The `runs` queue of a cronbundle installation, as the scheduler and api reach it. */
export function runsQueue(connection: Redis, prefix: string): Queue {
  return new Queue(QueueName.Runs, { connection, prefix });
}

/**
 * Enqueue `n` runs the way the scheduler's job schedulers do (trigger `schedule`, one slot each;
 * the worker creates the slot's execution record), with the definition's job options, in
 * addBulk chunks. The same call with `raw` data is used for raw BullMQ.
 */
export async function enqueueRuns(
  queue: Queue,
  n: number,
  make: (i: number) => { name: string; data: object; opts: JobsOptions },
  chunk = 500,
): Promise<void> {
  for (let i = 0; i < n; i += chunk) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + chunk); j++) batch.push(make(j));
    await queue.addBulk(batch);
  }
}

export function scheduledRun(def: Pick<JobDefinition, 'id' | 'retry'>, slot: number, i: number) {
  return {
    name: 'run',
    data: { jobId: def.id, trigger: 'schedule', scheduledFor: slot },
    opts: { ...runJobOptions(def), jobId: `bench-${i}` },
  };
}

/** Completed and failed counts of a queue. */
export async function doneCounts(queue: Queue): Promise<{ completed: number; failed: number }> {
  const c = await queue.getJobCounts('completed', 'failed');
  return { completed: c.completed ?? 0, failed: c.failed ?? 0 };
}

/** Calls per unit of work between two commandstats snapshots, top `limit` commands. */
export async function callsPer(
  redis: Redis,
  before: Record<string, number>,
  units: number,
  limit = 12,
): Promise<{ total: number; byCommand: Record<string, number> }> {
  const delta = commandstatsDelta(before, await commandstats(redis));
  const total = delta.reduce((s, d) => s + d.calls, 0);
  const byCommand: Record<string, number> = {};
  for (const d of delta.slice(0, limit)) byCommand[d.command] = round(d.calls / units);
  return { total: round(total / units), byCommand };
}

export function perUnit(counts: { total: number; byCommand: Record<string, number> }, units: number) {
  const byCommand: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts.byCommand)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12))
    byCommand[k] = round(v / units);
  return { total: round(counts.total / units), byCommand };
}

export function round(v: number, places = 2): number {
  return Number(v.toFixed(places));
}
