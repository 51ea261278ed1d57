import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueName, repeatStrategy, RunSchedulers, schedulerRev } from '@cronbundle/queue';
import type { JobDefinition } from '@cronbundle/core';
import { RedisKeys } from '@cronbundle/redis';
import { AppProcess, connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';

/**
 * Issue 4 "Done when": leader failover with real processes. Two schedulers (and, where slots
 * must run, two workers) on the run's Redis, an api for jobs, executions and /cluster.
 */

const LEASE_MS = 3000;
const SLOT_GRACE_MS = 4000;
const EVERY_2S = '*/2 * * * * *';

interface ExecutionBody {
  id: string;
  status: string;
  trigger: string;
  scheduledFor: string | null;
  reason?: string | null;
  attempts: { attempt: number; workerId: string; status: string }[];
}

interface ClusterBody {
  leader: { id: string; epoch: number; since: string; ttlMs: number } | null;
  schedulers: { id: string; leader?: boolean; stale: boolean }[];
  workers: { id: string }[];
}

interface Holder {
  owner: string;
  epoch: number;
}

/** A quick job (one `true` collector), retried never, so every slot is one attempt. */
function quickJob(id: string, cron: string) {
  return {
    id,
    schedule: { cron, timezone: 'UTC' },
    retry: { attempts: 1, backoffSeconds: 0 },
    spec: {
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { hostCollectors: [{ run: { collectorName: 'noop', command: 'true', args: [] } }] },
    },
  };
}

const RAN = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);
const TERMINAL = new Set([...RAN, 'skipped', 'missed']);

/** Processes of one test on their own key prefix; `close()` leaves nothing behind. */
class Cluster {
  readonly prefix = testPrefix();
  readonly keys = new RedisKeys(this.prefix);
  readonly processes: AppProcess[] = [];
  readonly byName = new Map<string, AppProcess>();
  readonly uploadDir = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-failover-'));
  api!: AppProcess;
  private queue?: Queue;
  private queueConnection?: Redis;

  constructor(private readonly redis: Redis) {}

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      REDIS_URL: testRedisUrl(),
      CRONBUNDLE_PREFIX: this.prefix,
      AUTH_DISABLED: 'true',
      UPLOAD_DEFAULT_URL: pathToFileURL(this.uploadDir).href,
      COLLECT_ALLOW_RUN: 'true',
      LEADER_LEASE_MS: String(LEASE_MS),
      SLOT_GRACE_MS: String(SLOT_GRACE_MS),
      LOG_LEVEL: 'info',
      ...extra,
    };
  }

  async start(app: 'api' | 'scheduler' | 'worker', name: string, extra: Record<string, string> = {}) {
    const p = await AppProcess.start(app, this.env({ INSTANCE_ID: name, ...extra }));
    this.processes.push(p);
    this.byName.set(name, p);
    await p.waitForStatus('/health/ready', 200, 30_000);
    return p;
  }

  async startApi(): Promise<void> {
    this.api = await this.start('api', 'api', { LOG_LEVEL: 'warn' });
  }

  async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${this.api.url}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async createJob(def: unknown): Promise<JobDefinition> {
    const res = await this.call<JobDefinition>('POST', '/jobs', def);
    expect(res.status).toBe(201);
    return res.body;
  }

  cluster = async () => (await this.call<ClusterBody>('GET', '/cluster')).body;

  /** Who holds the leader lease right now, straight from Redis. */
  async holder(): Promise<Holder | null> {
    const raw = await this.redis.get(this.keys.leader);
    return raw ? (JSON.parse(raw) as Holder) : null;
  }

  /** Poll the lease every 10 ms until `owner` holds it; returns the holder and when it was seen. */
  async leaderIs(owner: string, timeoutMs = 20_000): Promise<Holder & { seenAt: number }> {
    return waitFor(
      async () => {
        const h = await this.holder();
        return h?.owner === owner ? { ...h, seenAt: performance.now() } : undefined;
      },
      { timeoutMs, intervalMs: 10, what: `${owner} to hold the leader lease` },
    );
  }

  async schedulerState(): Promise<{ epoch: number; revision: number; at: number } | null> {
    const raw = await this.redis.get(this.keys.schedulerState);
    return raw ? (JSON.parse(raw) as { epoch: number; revision: number; at: number }) : null;
  }

  /** BullMQ's job schedulers of the runs queue, read as the scheduler reads them. */
  async jobSchedulers() {
    if (!this.queue) {
      this.queueConnection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
      this.queue = new Queue(QueueName.Runs, {
        connection: this.queueConnection,
        prefix: this.keys.bullPrefix,
        settings: { repeatStrategy },
      });
    }
    return new RunSchedulers(this.queue).list();
  }

  /** Every execution of a job, through the api (all pages). */
  async executions(jobId: string): Promise<ExecutionBody[]> {
    const all: ExecutionBody[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await this.call<{ items: ExecutionBody[]; nextCursor: string | null }>(
        'GET',
        `/jobs/${jobId}/executions?${q}`,
      );
      expect(res.status).toBe(200);
      all.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return all;
  }

  /** Output of all processes, for failure messages. */
  tails(): string {
    return this.processes.map((p) => `--- ${p.app} ${p.pid}\n${p.tail(20)}`).join('\n');
  }

  async close(): Promise<void> {
    this.processes.forEach((p) => {
      // A stopped process cannot die of SIGKILL until it is continued.
      p.child.kill('SIGCONT');
      p.kill();
    });
    await Promise.all(this.processes.map((p) => p.exited));
    await this.queue?.close();
    this.queueConnection?.disconnect();
    await deletePrefix(this.redis, this.prefix);
    rmSync(this.uploadDir, { recursive: true, force: true });
  }
}

/** Lines of a process's JSON log that have this message, parsed. */
function logLines(p: AppProcess, msg: string, fromIndex = 0): Record<string, unknown>[] {
  return p.output
    .slice(fromIndex)
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((l) => l.msg === msg);
}

function report(line: string): void {
  process.stdout.write(`[scheduler-failover] ${line}\n`);
}

describe('scheduler failover (built processes, real Redis)', () => {
  let redis: Redis;
  let cluster: Cluster | undefined;

  beforeAll(() => {
    redis = connectTestRedis();
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  afterAll(() => {
    redis.disconnect();
  });

  it('SIGKILL of the leader mid-run: a new leader within LEADER_LEASE_MS + 1 s; every slot accounted exactly once', async () => {
    const c = (cluster = new Cluster(redis));
    await c.startApi();
    await Promise.all([c.start('worker', 'worker-1'), c.start('worker', 'worker-2')]);
    await c.start('scheduler', 'sched-a');
    await c.leaderIs('sched-a');
    await c.start('scheduler', 'sched-b');

    await c.createJob(quickJob('tick', EVERY_2S));
    const ranSlots = async (after = 0) =>
      (await c.executions('tick')).filter((e) => RAN.has(e.status) && Date.parse(e.scheduledFor!) > after);
    await waitFor(async () => (await ranSlots()).length >= 3, {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'three slots of tick to run',
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${c.tails()}`);
    });

    // The leader as the api reports it is the one we kill.
    const before = await c.cluster();
    const first = (await c.holder())!;
    expect(before.leader).toMatchObject({ id: first.owner, epoch: first.epoch });
    const victim = c.byName.get(first.owner)!;
    const survivor = first.owner === 'sched-a' ? 'sched-b' : 'sched-a';
    const killedAt = performance.now();
    const killedWall = Date.now();
    victim.child.kill('SIGKILL');
    const next = await c.leaderIs(survivor, LEASE_MS + 5000);
    const electedMs = Math.round(next.seenAt - killedAt);
    report(`SIGKILL → new leader observable after ${electedMs} ms (LEADER_LEASE_MS ${LEASE_MS})`);
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect(next.epoch).toBeGreaterThan(first.epoch);
    expect(electedMs).toBeLessThan(LEASE_MS + 1000);
    const after = await c.cluster();
    expect(after.leader).toMatchObject({ id: survivor, epoch: next.epoch });

    // Slots keep running under the new leader; then every slot from the first record to the
    // last one that ran is exactly one terminal record: ran, skipped or missed (with a reason).
    await waitFor(async () => (await ranSlots(killedWall)).length >= 4, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'four slots to run after the kill',
    });
    const lastRan = Math.max(...(await ranSlots()).map((e) => Date.parse(e.scheduledFor!)));
    let records: ExecutionBody[] = [];
    let expected: number[] = [];
    await waitFor(
      async () => {
        records = await c.executions('tick');
        const firstSlot = Math.min(...records.map((e) => Date.parse(e.scheduledFor!)));
        expected = [];
        for (let s = firstSlot; s <= lastRan; s += 2000) expected.push(s);
        const bySlot = new Map(records.map((e) => [Date.parse(e.scheduledFor!), e]));
        return expected.every((s) => TERMINAL.has(bySlot.get(s)?.status ?? ''));
      },
      { timeoutMs: SLOT_GRACE_MS + 15_000, intervalMs: 250, what: 'every slot up to the last run to be accounted' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(records.map((e) => [e.scheduledFor, e.status]))}`);
    });

    const inRange = records.filter((e) => Date.parse(e.scheduledFor!) <= lastRan);
    // The execution store's slot index agrees: each slot points at its one record.
    const index = await redis.hgetall(c.keys.jobSlots('tick'));
    for (const e of inRange) expect(index[String(Date.parse(e.scheduledFor!))]).toBe(e.id);
    const slotsOf = inRange.map((e) => Date.parse(e.scheduledFor!));
    // Exactly once: one record per slot, every slot of the range present, nothing else.
    expect(new Set(slotsOf).size).toBe(slotsOf.length);
    expect([...slotsOf].sort((a, b) => a - b)).toEqual(expected);
    // No slot vanished: each record is terminal, and skipped/missed ones say why.
    for (const e of inRange) {
      expect(TERMINAL.has(e.status)).toBe(true);
      if (e.status === 'skipped' || e.status === 'missed') expect(e.reason).toEqual(expect.any(String));
      // No slot ran twice: one attempt per record that ran (no worker was killed).
      if (RAN.has(e.status)) expect(e.attempts).toHaveLength(1);
    }
    // No scheduledFor twice in the whole history either (including slots after the range).
    const allSlots = records.map((e) => e.scheduledFor);
    expect(new Set(allSlots).size).toBe(allSlots.length);
    const count = (s: (e: ExecutionBody) => boolean) => inRange.filter(s).length;
    report(
      `${expected.length} slots across the failover: ran ${count((e) => RAN.has(e.status))}, ` +
        `skipped ${count((e) => e.status === 'skipped')}, missed ${count((e) => e.status === 'missed')}`,
    );
    // Slots ran on both sides of the kill.
    expect(count((e) => RAN.has(e.status) && Date.parse(e.scheduledFor!) < killedWall)).toBeGreaterThanOrEqual(3);
    expect(count((e) => RAN.has(e.status) && Date.parse(e.scheduledFor!) > killedWall)).toBeGreaterThanOrEqual(4);
  });

  it('SIGSTOP of the leader past its lease: the follower takes over, the resumed leader steps down, no stale write lands', async () => {
    const c = (cluster = new Cluster(redis));
    await c.startApi();
    // A 1-second periodic reconcile, so the frozen leader has a reconcile due when it resumes.
    const extra = { RECONCILE_INTERVAL_MS: '1000' };
    await c.start('scheduler', 'sched-a', extra);
    await c.leaderIs('sched-a');
    await c.start('scheduler', 'sched-b', extra);

    const created = await c.createJob(quickJob('edited', '0 * * * *'));
    await waitFor(
      async () => (await c.jobSchedulers()).find((s) => s.id === 'edited' && s.rev === schedulerRev(created)),
      {
        what: 'the job scheduler of edited',
      },
    );
    const first = (await c.holder())!;
    const old = c.byName.get(first.owner)!;
    const followerId = first.owner === 'sched-a' ? 'sched-b' : 'sched-a';
    const follower = c.byName.get(followerId)!;
    await waitFor(async () => (await c.schedulerState())?.epoch === first.epoch, {
      what: "the leader's reconcile state",
    });

    old.child.kill('SIGSTOP');
    const stoppedAt = performance.now();
    const next = await c.leaderIs(followerId, LEASE_MS + 5000);
    report(`SIGSTOP → follower leads after ${Math.round(next.seenAt - stoppedAt)} ms`);
    expect(next.epoch).toBeGreaterThan(first.epoch);

    // Edit while the old leader is frozen: only the new leader may apply it.
    const edit = await c.call<JobDefinition>(
      'PATCH',
      '/jobs/edited',
      { schedule: { cron: '30 * * * *' } },
      { 'if-match': '*' },
    );
    expect(edit.status).toBe(200);
    const editedRev = schedulerRev(edit.body);
    expect(editedRev).not.toBe(schedulerRev(created));
    await waitFor(async () => (await c.jobSchedulers()).find((s) => s.id === 'edited')?.rev === editedRev, {
      what: 'the new leader to apply the edit',
    });
    await waitFor(async () => (await c.schedulerState())?.epoch === next.epoch, {
      what: "the new leader's state",
    });

    // Resume the old leader with its renew, watchdog, periodic reconcile and the registry event
    // all overdue: it must step down without writing.
    const resumedFrom = old.output.length;
    const resumedWall = Date.now();
    old.child.kill('SIGCONT');
    const stepped = await waitFor(() => logLines(old, 'stepped down', resumedFrom)[0], {
      what: 'the old leader to log that it stepped down',
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${old.tail(30)}`);
    });
    // Its watchdog finds the safe window long past (renewal-timeout); a renewal that was in
    // flight when it froze may answer first and say the lease is gone (lease-lost).
    expect(stepped).toMatchObject({
      epoch: first.epoch,
      reason: expect.stringMatching(/^(renewal-timeout|lease-lost)$/),
    });
    await waitFor(async () => /^cronbundle_leader(\{[^}]*\})? 0$/m.test(await (await old.get('/metrics')).text()), {
      what: 'cronbundle_leader 0 on the old leader',
    });
    expect(await (await follower.get('/metrics')).text()).toMatch(/^cronbundle_leader(\{[^}]*\})? 1$/m);
    await waitFor(
      async () => {
        const view = await c.cluster();
        const a = view.schedulers.find((s) => s.id === first.owner);
        return view.leader?.id === followerId && view.leader.epoch === next.epoch && a?.leader === false;
      },
      { what: '/cluster to show the follower leading and the old leader following' },
    );

    // The new leader's next periodic reconcile lands after the resume, and nothing of the old
    // epoch overwrote state or the job scheduler in between.
    await waitFor(async () => ((await c.schedulerState())?.at ?? 0) > resumedWall + 1000, {
      what: 'a reconcile after the resume',
    });
    const state = await c.schedulerState();
    expect(state?.epoch).toBe(next.epoch);
    const scheduler = (await c.jobSchedulers()).find((s) => s.id === 'edited');
    expect(scheduler?.rev).toBe(editedRev);
    expect(new Date(scheduler!.next!).getUTCMinutes()).toBe(30);
    const staleWrites = [
      ...logLines(old, 'reconciled', resumedFrom),
      ...logLines(old, 'job scheduler upserted', resumedFrom),
      ...logLines(old, 'job scheduler removed', resumedFrom),
    ];
    expect(staleWrites).toEqual([]);
    expect(await c.holder()).toMatchObject({ owner: followerId, epoch: next.epoch });
  });

  it('graceful shutdown (SIGTERM) of the leader hands over in under 1 s (asserted < 2.5 s on a loaded machine)', async () => {
    const c = (cluster = new Cluster(redis));
    await c.startApi();
    await c.start('scheduler', 'sched-a');
    await c.leaderIs('sched-a');
    await c.start('scheduler', 'sched-b');
    await c.start('scheduler', 'sched-c');
    const figures: string[] = [];

    // Two handovers: the leader → one of the other two, then that one → the last.
    for (let round = 0; round < 2; round++) {
      const current = (await c.holder())!;
      const leader = c.byName.get(current.owner)!;
      const sentAt = performance.now();
      const [exit, next] = await Promise.all([
        leader.stop('SIGTERM', 5000),
        waitFor(
          async () => {
            const h = await c.holder();
            return h && h.owner !== current.owner ? { ...h, seenAt: performance.now() } : undefined;
          },
          { timeoutMs: 10_000, intervalMs: 5, what: `a new leader after ${current.owner}'s SIGTERM` },
        ),
      ]);
      const ms = Math.round(next.seenAt - sentAt);
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(next.epoch).toBe(current.epoch + 1);
      expect(ms).toBeLessThan(2500);
      // ... and the new leader is at work: its election reconcile is on record.
      await waitFor(async () => (await c.schedulerState())?.epoch === next.epoch, {
        what: `the new leader ${next.owner} to reconcile`,
      });
      figures.push(
        `${ms} ms (reconciled after ${Math.round(performance.now() - sentAt)} ms, exit after ${exit.ms} ms)`,
      );
    }
    report(`SIGTERM → new leader observable after ${figures.join('; ')}`);
  });
});
