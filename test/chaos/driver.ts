import type { ChaosCluster } from './cluster';
import type { TriggerCall } from './ledger';
import type { Rng } from './random';

export type FaultKind = 'kill-leader' | 'kill-worker' | 'pause-leader' | 'restart-redis';
export const FAULT_KINDS: readonly FaultKind[] = ['kill-leader', 'kill-worker', 'pause-leader', 'restart-redis'];

export interface FaultRecord {
  kind: FaultKind;
  at: number;
  target: string;
  ms: number;
  note?: string;
}

export interface DriverOptions {
  /** Wait between two faults, ms (uniform). */
  faultGapMs: [number, number];
  /** Wait between two manual triggers, ms (uniform). */
  triggerGapMs: [number, number];
  leaseMs: number;
  /** The kinds to choose from. */
  faults: readonly FaultKind[];
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The seeded random driver. Two loops until `stop()`: faults one at a time (each waits for its own
 * recovery, so the cluster is whole again before the next), and manual triggers through the api,
 * every answer recorded. Replaying a seed replays the same choices and waits; what the cluster does
 * in between is timing-dependent, so a replay reproduces the pressure, not every interleaving.
 */
export class ChaosDriver {
  readonly faults: FaultRecord[] = [];
  readonly triggers: TriggerCall[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly faultRng: Rng,
    private readonly triggerRng: Rng,
    private readonly jobIds: string[],
    private readonly options: DriverOptions,
  ) {}

  start(): void {
    this.loops = [this.faultLoop(), this.triggerLoop()];
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async faultLoop(): Promise<void> {
    const [lo, hi] = this.options.faultGapMs;
    while (!this.stopping) {
      await sleep(this.faultRng.int(lo, hi));
      if (this.stopping) break;
      const kind = this.faultRng.pick(this.options.faults);
      const started = Date.now();
      try {
        const record = await this.inject(kind);
        if (record) this.faults.push({ ...record, at: started, ms: Date.now() - started });
      } catch (err) {
        this.options.log(`fault ${kind} could not be completed: ${(err as Error).message}`);
        this.faults.push({ kind, at: started, target: '?', ms: Date.now() - started, note: (err as Error).message });
      }
    }
  }

  private async inject(kind: FaultKind): Promise<Omit<FaultRecord, 'at' | 'ms'> | undefined> {
    const rng = this.faultRng;
    switch (kind) {
      case 'kill-leader': {
        const leader = await this.leader();
        if (!leader) return { kind, target: 'none', note: 'no leader to kill' };
        await this.cluster.kill(leader);
        await sleep(rng.int(500, 4000));
        await this.cluster.launch(leader);
        return { kind, target: leader };
      }
      case 'kill-worker': {
        const worker = rng.pick(this.cluster.names('worker'));
        await this.cluster.kill(worker);
        await sleep(rng.int(1000, 8000));
        await this.cluster.launch(worker);
        return { kind, target: worker };
      }
      case 'pause-leader': {
        const leader = await this.leader();
        if (!leader) return { kind, target: 'none', note: 'no leader to pause' };
        // Past the lease, so a follower takes over while the old leader is frozen.
        await this.cluster.pause(leader, this.options.leaseMs + rng.int(500, 3000));
        return { kind, target: leader };
      }
      case 'restart-redis': {
        await this.cluster.restartRedis(rng.int(200, 3000));
        return { kind, target: 'redis' };
      }
    }
  }

  /** The leader's cluster member name, from GET /api/v1/cluster (retried while Redis is away). */
  private async leader(): Promise<string | undefined> {
    for (let i = 0; i < 20; i++) {
      try {
        const res = await fetch(`${this.cluster.api.url}/api/v1/cluster`, { signal: AbortSignal.timeout(3000) });
        if (res.ok) {
          const body = (await res.json()) as { leader: { id: string } | null };
          const name = body.leader ? this.cluster.memberOfInstance(body.leader.id) : undefined;
          if (name && this.cluster.isRunning(name)) return name;
        }
      } catch {
        // the api may be waiting for Redis; ask again
      }
      await sleep(250);
    }
    return undefined;
  }

  private async triggerLoop(): Promise<void> {
    const [lo, hi] = this.options.triggerGapMs;
    while (!this.stopping) {
      await sleep(this.triggerRng.int(lo, hi));
      if (this.stopping) break;
      const jobId = this.triggerRng.pick(this.jobIds);
      const at = Date.now();
      const redisDownBefore = this.cluster.redisDown;
      const call: TriggerCall = { jobId, at, status: 0, redisDown: redisDownBefore };
      try {
        const res = await fetch(`${this.cluster.api.url}/api/v1/jobs/${jobId}/trigger`, {
          method: 'POST',
          signal: AbortSignal.timeout(15_000),
        });
        call.status = res.status;
        const body = (await res.json().catch(() => ({}))) as { executionId?: string };
        if (res.status === 202 && body.executionId) call.executionId = body.executionId;
      } catch {
        call.status = 0;
      }
      // A call that overlapped a Redis outage at either end counts as made while Redis was down.
      call.redisDown = redisDownBefore || this.cluster.redisDown;
      this.triggers.push(call);
    }
  }
}
