import type { Scenario } from '../lib/context';
import { Proc, ProcSet, sleep } from '../lib/harness';
import type { ResultRow } from '../lib/stats';
import { fmtBytes, meets, type Goal } from '../lib/stats';

const GOALS: Record<'api' | 'scheduler' | 'worker', Goal | undefined> = {
  api: undefined,
  scheduler: { better: 'lower', limit: 120 * 1024 * 1024, text: '≤ 120 MB' },
  worker: { better: 'lower', limit: 80 * 1024 * 1024, text: '≤ 80 MB' },
};

export const memory: Scenario = {
  name: 'memory',
  what: 'idle RSS of each built app (no jobs), and Redis bytes per retained execution (from dispatch)',
  async run(ctx) {
    const procs = new ProcSet();
    const env = { REDIS_URL: ctx.redisUrl, CRONBUNDLE_PREFIX: 'cbm', LOG_LEVEL: 'warn', AUTH_DISABLED: 'true' };
    try {
      const apps = {
        api: procs.add(await Proc.app('api', env)),
        scheduler: procs.add(await Proc.app('scheduler', env)),
        worker: procs.add(await Proc.app('worker', env)),
      };
      for (const p of Object.values(apps)) await p.waitReady();
      // Idle: a few heartbeats and slot sweeps after boot.
      await sleep(ctx.quick ? 5000 : 15_000);
      const rss = Object.fromEntries(Object.entries(apps).map(([k, p]) => [k, p.memory()]));
      const rows: ResultRow[] = (Object.keys(apps) as (keyof typeof apps)[]).map((app) => {
        const goal = GOALS[app];
        return {
          scenario: `memory: idle RSS, ${app}`,
          cronbundle: fmtBytes(rss[app].rss),
          raw: 'n/a',
          goal: goal?.text ?? '–',
          met: goal ? meets(rss[app].rss, goal) : null,
        };
      });
      if (ctx.shared.bytesPerExecution !== undefined) {
        rows.push({
          scenario: 'memory: Redis bytes per retained execution',
          cronbundle: fmtBytes(ctx.shared.bytesPerExecution),
          raw: 'n/a',
          goal: '– (record + log list + index share)',
          met: null,
        });
      }
      return { rows, details: { rss, bytesPerExecution: ctx.shared.bytesPerExecution } };
    } finally {
      await procs.stopAll();
    }
  },
};
