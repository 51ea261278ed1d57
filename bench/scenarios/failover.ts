import type { Scenario } from '../lib/context';
import { parseLog, Proc, ProcSet } from '../lib/harness';
import { fmt, meets, type Goal } from '../lib/stats';

const KILL_GOAL: Goal = { better: 'lower', limit: 6000, text: '≤ 6 s (lease 5 s)' };
const HANDOVER_GOAL: Goal = { better: 'lower', limit: 1000, text: '≤ 1 s' };
const LEASE_MS = 5000;

const becameLeader = (line: string) => parseLog(line)?.msg === 'became leader';

export const failover: Scenario = {
  name: 'failover',
  what: 'scheduler leader SIGKILL → a follower leads (lease 5 s); leader SIGTERM → graceful handover',
  async run(ctx) {
    const procs = new ProcSet();
    const env = {
      REDIS_URL: ctx.redisUrl,
      CRONBUNDLE_PREFIX: 'cbf',
      LEADER_LEASE_MS: String(LEASE_MS),
      LOG_LEVEL: 'info',
    };
    try {
      const a = procs.add(await Proc.app('scheduler', env, 'scheduler-a'));
      const first = await a.waitForLine(becameLeader, 'leadership', 30_000);
      void first;
      const b = procs.add(await Proc.app('scheduler', env, 'scheduler-b'));
      await b.waitReady();
      // SIGKILL: the follower must wait for the lease to expire.
      const bLeads = b.waitForLine(becameLeader, 'leadership after the leader was killed', 30_000, false);
      const killedAt = Date.now();
      a.kill('SIGKILL');
      const killMs = (await bLeads).at - killedAt;
      ctx.log(`  SIGKILL → new leader in ${killMs} ms`);

      // SIGTERM: the leader releases the lease and announces it; the follower takes over at once.
      const c = procs.add(await Proc.app('scheduler', env, 'scheduler-c'));
      await c.waitReady();
      const cLeads = c.waitForLine(becameLeader, 'leadership after a graceful stop', 30_000, false);
      const stoppedAt = Date.now();
      b.kill('SIGTERM');
      const handoverMs = (await cLeads).at - stoppedAt;
      ctx.log(`  SIGTERM → new leader in ${handoverMs} ms`);
      return {
        rows: [
          {
            scenario: 'failover: leader SIGKILL → new leader',
            cronbundle: `${fmt(killMs / 1000)} s`,
            raw: 'n/a (no leader in BullMQ)',
            goal: KILL_GOAL.text,
            met: meets(killMs, KILL_GOAL),
          },
          {
            scenario: 'failover: graceful handover (SIGTERM)',
            cronbundle: `${fmt(handoverMs / 1000)} s`,
            raw: 'n/a',
            goal: HANDOVER_GOAL.text,
            met: meets(handoverMs, HANDOVER_GOAL),
          },
        ],
        details: { leaseMs: LEASE_MS, killMs, handoverMs },
      };
    } finally {
      await procs.stopAll();
    }
  },
};
