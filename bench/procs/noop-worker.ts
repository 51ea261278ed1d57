// The cronbundle worker (apps/worker, every runtime step: registry read, execution record,
// overlap policy, stage timings, finish, retention, dependants) with no-op collect, bundle and
// upload stages, so `dispatch` measures the runtime and not the collectors.
//
// BENCH_DEPENDENTS_INDEX=true is a what-if, not shipped code: dependants are looked up with one
// SMEMBERS of a per-job index instead of DependencyTrigger's scan of the whole registry, to show
// what that cut would buy (docs/BENCHMARKS.md).
import './count-commands';
import 'reflect-metadata';
import type { Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { loadConfigOrExit } from '@cronbundle/config';
import { startHttpApp } from '@cronbundle/observability';
import { REDIS, RedisKeys } from '@cronbundle/redis';
import { BUNDLE_STAGE, COLLECT_STAGE, UPLOAD_STAGE } from '../../apps/worker/src/pipeline/pipeline.types';
import type {
  BundleStage,
  CollectedBundle,
  CollectStage,
  UploadStage,
} from '../../apps/worker/src/pipeline/pipeline.types';
import { DependencyTrigger } from '../../apps/worker/src/run/dependency-trigger';
import { WorkerModule } from '../../apps/worker/src/worker.module';

const EMPTY: CollectedBundle = {
  file: '',
  name: 'noop',
  sizeBytes: 0,
  sha256: '',
  files: 0,
  collectors: { total: 0, failed: 0 },
};
const noopCollect: CollectStage = { collect: async () => EMPTY };
// No bundle: the record gets no `bundle` field (a no-op pipeline produces nothing to describe).
const noopBundle: BundleStage = { describe: async () => undefined as never };
const noopUpload: UploadStage = { upload: async () => undefined };
const REPLACED: Record<symbol, unknown> = {
  [COLLECT_STAGE]: noopCollect,
  [BUNDLE_STAGE]: noopBundle,
  [UPLOAD_STAGE]: noopUpload,
};

const dependentsByIndex: Provider = {
  provide: DependencyTrigger,
  inject: [REDIS, RedisKeys],
  useFactory: (redis: Redis, keys: RedisKeys) => ({
    afterSuccess: async (jobId: string) => {
      await redis.smembers(`${keys.prefix}:job:${jobId}:dependents`);
      return [];
    },
  }),
};

async function main(): Promise<void> {
  const config = loadConfigOrExit('worker');
  const indexDependents = process.env.BENCH_DEPENDENTS_INDEX === 'true';
  await startHttpApp(config, (logger) => {
    const mod = WorkerModule.forRoot(config, logger);
    const providers = (mod.providers ?? []).map((p: Provider) => {
      if (indexDependents && p === DependencyTrigger) return dependentsByIndex;
      const token = typeof p === 'object' && 'provide' in p ? p.provide : undefined;
      return typeof token === 'symbol' && token in REPLACED ? { provide: token, useValue: REPLACED[token] } : p;
    });
    return { ...mod, providers };
  });
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`noop worker failed to start: ${(err as Error).stack}\n`);
  process.exit(1);
});
