import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Scenario } from '../lib/context';
import { fmt, meets, type Goal } from '../lib/stats';
import { cronbundleRound, rawRound } from './dispatch';

const GOAL: Goal = { better: 'higher', limit: 0.25, text: '≥ 0.25× raw' };

/** A troubleshoot spec with one `data` collector: the smallest real bundle. */
export const DATA_SPEC = {
  apiVersion: 'troubleshoot.sh/v1beta2',
  kind: 'SupportBundle',
  metadata: { name: 'bench' },
  spec: { collectors: [{ data: { name: 'static', collectorName: 'hello.txt', data: 'hello bundle\n' } }] },
};

function countFiles(dir: string, suffix: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countFiles(join(dir, e.name), suffix);
    else if (e.name.endsWith(suffix)) n++;
  }
  return n;
}

export const trivialBundle: Scenario = {
  name: 'bundle',
  what: 'runs/s of a `data`-collector spec collected, bundled (tar.gz) and written to file:// by the built worker, vs raw BullMQ no-op jobs/s',
  async run(ctx) {
    const n = ctx.quick ? 1000 : 3000;
    let rawRate = ctx.shared.rawNoopJobsPerSecond;
    if (rawRate === undefined) {
      rawRate = (
        await rawRound(ctx, ctx.quick ? 3000 : 10_000, { id: 'bench-noop', retry: { attempts: 1, backoffSeconds: 0 } })
      ).perSecond;
      ctx.log(`  raw BullMQ ${rawRate} jobs/s`);
    }
    const uploadDir = mkdtempSync(join(tmpdir(), 'cronbundle-bench-bundles-'));
    try {
      const result = await cronbundleRound(
        ctx,
        n,
        { app: 'worker', env: { UPLOAD_DEFAULT_URL: pathToFileURL(uploadDir).href } },
        { spec: DATA_SPEC, analyze: false, redact: false },
        'cbb',
      );
      const bundles = countFiles(uploadDir, '.tar.gz');
      if (bundles !== n) throw new Error(`expected ${n} bundles under ${uploadDir}, found ${bundles}`);
      ctx.log(`  cronbundle ${result.perSecond} runs/s, ${bundles} bundles written`);
      const ratio = result.perSecond / rawRate;
      return {
        rows: [
          {
            scenario: 'trivial bundle (data collector → tar.gz → file://)',
            cronbundle: `${fmt(result.perSecond)} runs/s`,
            raw: `${fmt(rawRate)} jobs/s (no-op)`,
            ratio,
            goal: GOAL.text,
            met: meets(ratio, GOAL),
            notes: `Redis calls/run ${fmt(result.serverCallsPerRun.total)}; ${bundles} bundles verified on disk`,
          },
        ],
        details: { n, rawRate, ...result, def: undefined, bundles },
      };
    } finally {
      rmSync(uploadDir, { recursive: true, force: true });
    }
  },
};
