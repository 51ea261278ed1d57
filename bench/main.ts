// `npm run bench [-- --quick] [--only a,b] [--profile]`: every scenario runs raw BullMQ and
// cronbundle in the same run on the same private redis-server; prints a markdown table and
// writes bench/results/latest.json. See docs/BENCHMARKS.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisServerProcess } from '@cronbundle/redis';
import type { BenchContext, Scenario } from './lib/context';
import { ROOT } from './lib/harness';
import { newProfiles, summarizeProfile } from './lib/profile';
import { markdownTable, type ResultRow } from './lib/stats';
import { SCENARIOS } from './scenarios';

interface Args {
  quick: boolean;
  profile: boolean;
  dependentsIndex: boolean;
  only?: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, profile: false, dependentsIndex: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--profile') args.profile = true;
    else if (a === '--what-if-dependents-index') args.dependentsIndex = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      args.only = (v ?? '').split(',').filter(Boolean);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(
        `usage: npm run bench -- [--quick] [--only ${SCENARIOS.map((s) => s.name).join(',')}] [--profile] [--what-if-dependents-index]\n`,
      );
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${a} (try --help)\n`);
      process.exit(2);
    }
  }
  const unknown = (args.only ?? []).filter((o) => !SCENARIOS.some((s) => s.name === o));
  if (unknown.length) {
    process.stderr.write(`bench: --only: unknown scenario ${unknown.join(', ')}\n`);
    process.exit(2);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(join(resultsDir, 'profiles'), { recursive: true });
  const started = Date.now();
  const log = (m: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  const server = await RedisServerProcess.start();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
  const ctx: BenchContext = {
    quick: args.quick,
    profile: args.profile,
    dependentsIndex: args.dependentsIndex,
    resultsDir,
    redisUrl: server.url,
    redis,
    shared: {},
    log,
  };
  const selected: Scenario[] = SCENARIOS.filter((s) => !args.only || args.only.includes(s.name));
  const rows: ResultRow[] = [];
  const details: Record<string, unknown> = {};
  let failures = 0;
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
  log(`private redis-server ${redisVersion} on ${server.url}; mode ${args.quick ? 'quick' : 'full'}`);
  try {
    for (const scenario of selected) {
      log(`${scenario.name}: ${scenario.what}`);
      const t = Date.now();
      try {
        await redis.flushall();
        const result = await scenario.run(ctx);
        rows.push(...result.rows);
        const profiles = args.profile
          ? newProfiles(join(resultsDir, 'profiles'), t).map((f) => summarizeProfile(f))
          : [];
        details[scenario.name] = {
          ...result.details,
          ...(profiles.length ? { profiles } : {}),
          seconds: Math.round((Date.now() - t) / 1000),
        };
      } catch (err) {
        failures++;
        log(`${scenario.name} FAILED: ${(err as Error).stack}`);
        rows.push({ scenario: scenario.name, cronbundle: 'error', raw: '–', goal: '–', notes: (err as Error).message });
        details[scenario.name] = { error: (err as Error).message };
      }
      log(`${scenario.name}: done in ${Math.round((Date.now() - t) / 1000)} s`);
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
  const report = {
    date: new Date().toISOString(),
    mode: args.quick ? 'quick' : 'full',
    whatIfDependentsIndex: args.dependentsIndex,
    seconds: Math.round((Date.now() - started) / 1000),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryBytes: totalmem(),
      node: process.version,
      redis: redisVersion,
    },
    rows,
    details,
  };
  const name = `latest${args.only ? `-${args.only.join('-')}` : ''}${args.dependentsIndex ? '-what-if' : ''}.json`;
  const file = join(resultsDir, name);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${markdownTable(rows)}\n\n`);
  for (const r of rows.filter((r) => r.notes)) process.stdout.write(`- ${r.scenario}: ${r.notes}\n`);
  process.stdout.write(`\nresults: ${file} (${report.seconds} s)\n`);
  process.exit(failures ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
