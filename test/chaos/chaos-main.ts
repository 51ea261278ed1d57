import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScheduleLike } from '@cronbundle/core';
import { REPO_ROOT } from '../support/app-process';
import { ChaosCluster } from './cluster';
import { ChaosDriver, FAULT_KINDS, type FaultKind, type FaultRecord } from './driver';
import { chaosJobs } from './jobs';
import { checkLedger, type LedgerExecution, type LedgerJob, type LedgerReport } from './ledger';
import { Rng } from './random';
import { formatReport } from './report';

export interface ChaosArgs {
  minutes: number;
  jobs: number;
  seed: number;
  settleSeconds: number;
  keep: boolean;
  /** Fault kinds the driver may inject (default: all). */
  faults: FaultKind[];
}

const USAGE =
  'usage: npm run chaos -- [--minutes N (default 10)] [--jobs N (default 200)] [--seed S] [--settle-seconds N (default 60)] [--faults kill-leader,kill-worker,pause-leader,restart-redis] [--keep]';

/** Parses the command line; a bad value throws an Error naming the flag. */
export function parseChaosArgs(argv: string[]): ChaosArgs {
  const args: ChaosArgs = {
    minutes: 10,
    jobs: 200,
    seed: randomInt(1, 2 ** 31),
    settleSeconds: 60,
    keep: false,
    faults: [...FAULT_KINDS],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const number = (min: number, max: number, integer = true) => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
        throw new Error(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got "${raw}")`);
      return n;
    };
    if (flag === '--minutes') args.minutes = number(0.25, 24 * 60, false);
    else if (flag === '--jobs') args.jobs = number(1, 2000);
    else if (flag === '--seed') args.seed = number(0, 2 ** 32 - 1);
    else if (flag === '--settle-seconds') args.settleSeconds = number(10, 3600);
    else if (flag === '--keep') args.keep = true;
    else if (flag === '--faults') {
      const kinds = value()
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
      if (unknown.length || kinds.length === 0)
        throw new Error(
          `--faults takes a comma-separated list of ${FAULT_KINDS.join(', ')} (got "${unknown.join(',')}")`,
        );
      args.faults = kinds as FaultKind[];
    } else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  return args;
}

/** The scheduler's SLOT_GRACE_MS default: a slot is only judged missed this long after its time. */
const SLOT_GRACE_MS = 10_000;
const LEASE_MS = 3000;
/** After a fault ends, how long its effects may still show (redelivery ~15 s, lock expiry, backlog). */
const DISTURBED_AFTER_MS = 30_000;

interface JobView {
  id: string;
  schedule: ScheduleLike;
  createdAt: string;
  updatedAt: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stamp = () => new Date().toISOString().slice(11, 23);

export async function runChaos(args: ChaosArgs): Promise<number> {
  const startedAt = Date.now();
  const log = (line: string) => process.stdout.write(`[${stamp()}] ${line}\n`);
  const dir = join(
    REPO_ROOT,
    '.data',
    'chaos',
    `seed-${args.seed}-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}`,
  );
  log(
    `chaos: seed ${args.seed}, ${args.minutes} min, ${args.jobs} jobs, faults ${args.faults.join(',')} (replay: npm run chaos -- --seed ${args.seed} --minutes ${args.minutes} --jobs ${args.jobs}${args.faults.length < FAULT_KINDS.length ? ` --faults ${args.faults.join(',')}` : ''})`,
  );
  log(`run directory (logs, AOF, bundles): ${dir}`);

  const rng = new Rng(args.seed);
  const cluster = new ChaosCluster({
    dir,
    prefix: 'chaos',
    leaseMs: LEASE_MS,
    schedulers: 2,
    workers: 3,
    workerConcurrency: 20,
    log,
  });
  let exitCode = 1;
  const interrupt = (signal: NodeJS.Signals) => {
    log(`${signal}: killing the cluster; the run directory is kept`);
    cluster.killAll();
    process.exit(130);
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await cluster.start();
    const api = cluster.api.url;
    const jobs = chaosJobs(rng.fork('jobs'), args.jobs);
    for (const job of jobs) {
      const res = await fetch(`${api}/api/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(job.body),
      });
      if (res.status !== 201) throw new Error(`creating ${job.id} answered ${res.status}: ${await res.text()}`);
    }
    const mix = (key: 'kind' | 'policy') =>
      Object.entries(jobs.reduce<Record<string, number>>((m, j) => ({ ...m, [j[key]]: (m[j[key]] ?? 0) + 1 }), {}))
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
    log(`created ${jobs.length} jobs (${mix('kind')}; ${mix('policy')})`);

    const driver = new ChaosDriver(
      cluster,
      rng.fork('faults'),
      rng.fork('triggers'),
      jobs.map((j) => j.id),
      { faultGapMs: [3000, 12_000], triggerGapMs: [200, 1500], leaseMs: LEASE_MS, faults: args.faults, log },
    );
    driver.start();
    await sleep(args.minutes * 60_000);
    log('stopping the driver (a fault in progress completes first)');
    await driver.stop();
    const windowEnd = Date.now();
    log(`driver stopped: ${driver.faults.length} faults, ${driver.triggers.length} manual triggers; settling`);

    // Settle: no more faults; wait until every judged slot and manual run has a final record.
    const settleDeadline = windowEnd + args.settleSeconds * 1000;
    let report: LedgerReport;
    let definitionsAtEnd: string[] = [];
    for (;;) {
      const earliest = windowEnd + SLOT_GRACE_MS + 4000;
      if (Date.now() < earliest) await sleep(earliest - Date.now());
      const data = await readLedgerData(
        api,
        jobs.map((j) => j.id),
        cluster.uploadDir,
      );
      definitionsAtEnd = data.definitions.map((d) => d.id);
      report = checkLedger({
        jobs: data.ledgerJobs,
        definitionsAtEnd,
        executions: data.executions,
        toMs: windowEnd,
        triggers: driver.triggers,
        bundles: data.bundles,
        disturbed: driver.faults.map((f) => ({ from: f.at, to: f.at + f.ms + DISTURBED_AFTER_MS })),
      });
      const open = report.lost + report.stuck;
      if (open === 0 || Date.now() > settleDeadline) break;
      log(`settling: ${report.lost} slots without a record, ${report.stuck} runs not final yet`);
      await sleep(5000);
    }
    process.stdout.write('\n' + formatReport(report, faultSummary(driver.faults), args) + '\n');
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ args, report, faults: driver.faults }, null, 2));
    log(`report: ${join(dir, 'report.json')}; total ${Math.round((Date.now() - startedAt) / 1000)} s`);
    exitCode = report.violations.length === 0 ? 0 : 1;
  } catch (err) {
    log(`chaos run failed: ${(err as Error).stack ?? String(err)}`);
    for (const name of ['api', 'scheduler-1', 'scheduler-2', 'worker-1']) {
      const tail = cluster.tail(name, 10);
      if (tail) log(`--- ${name} ---\n${tail}`);
    }
  } finally {
    await cluster.stopAll().catch((err: unknown) => log(`stopping the cluster: ${(err as Error).message}`));
  }
  if (exitCode === 0 && !args.keep) rmSync(dir, { recursive: true, force: true });
  else log(`kept ${dir}`);
  return exitCode;
}

function faultSummary(faults: FaultRecord[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
  for (const f of faults) out[f.kind] = (out[f.kind] ?? 0) + 1;
  return out;
}

async function getJson<T>(url: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      if (res.ok) return (await res.json()) as T;
      if (attempt >= 3) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
    await sleep(500);
  }
}

/** Everything the ledger judges, read through the api (and the upload directory for bundles). */
async function readLedgerData(api: string, jobIds: string[], uploadDir: string) {
  const definitions: JobView[] = [];
  for (let cursor: string | null = null; ;) {
    const page: { items: JobView[]; nextCursor: string | null } = await getJson(
      `${api}/api/v1/jobs?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    definitions.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const byId = new Map(definitions.map((d) => [d.id, d]));
  const ledgerJobs: LedgerJob[] = [];
  const executions: LedgerExecution[] = [];
  const bundles = new Map<string, string[]>();
  // A few jobs at a time: enough to be quick, few enough not to crowd the api.
  const queue = [...jobIds];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const def = byId.get(id);
        if (!def) continue;
        // Edge rule: slots strictly after the definition's last write are judged (the scheduler's
        // sweep starts there too); slots up to the moment the driver stopped.
        ledgerJobs.push({ id, schedule: def.schedule, fromMs: Date.parse(def.updatedAt) });
        for (let cursor: string | null = null; ;) {
          const page: { items: LedgerExecution[]; nextCursor: string | null } = await getJson(
            `${api}/api/v1/jobs/${id}/executions?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
          executions.push(...page.items);
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
        const jobDir = join(uploadDir, id);
        if (existsSync(jobDir))
          bundles.set(
            id,
            readdirSync(jobDir).filter((n) => n.endsWith('.tar.gz')),
          );
      }
    }),
  );
  // Jobs the api no longer lists are still judged (their slots are then all lost).
  for (const id of jobIds)
    if (!byId.has(id)) ledgerJobs.push({ id, schedule: { cron: '0 0 1 1 *', timezone: 'UTC' }, fromMs: Date.now() });
  return { definitions, ledgerJobs, executions, bundles };
}
