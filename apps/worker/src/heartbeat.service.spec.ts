import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '@cronbundle/config';
import { Metrics } from '@cronbundle/observability';
import { RedisKeys } from '@cronbundle/redis';
import { WorkerHeartbeat } from './heartbeat.service';
import type { RunProcessor } from './run/run-processor';
import { WorkerMetrics } from './run/worker.metrics';

describe('WorkerHeartbeat', () => {
  it('writes the worker entry and sets cronbundle_queue_jobs{state} from the runs queue counts', async () => {
    const written: Record<string, string> = {};
    const redis = {
      hset: async (_key: string, field: string, value: string) => {
        written[field] = value;
        return 1;
      },
      hdel: async () => 1,
    };
    const counts = { waiting: 2, active: 1, delayed: 3, failed: 4, completed: 7, prioritized: 0 };
    const runs = { getJobCounts: async () => counts };
    const metrics = new Metrics();
    const heartbeat = new WorkerHeartbeat(
      redis as unknown as Redis,
      new RedisKeys('t'),
      { activeCount: 1 } as RunProcessor,
      new WorkerMetrics(metrics),
      runs as unknown as Queue,
      { instanceId: 'w-1', worker: { concurrency: 2 } } as AppConfig,
    );
    await (heartbeat as unknown as { beat(): Promise<void> }).beat();

    expect(JSON.parse(written['w-1'])).toMatchObject({ concurrency: 2, active: 1 });
    const gauge = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'cronbundle_queue_jobs')!;
    const byState = Object.fromEntries(gauge.values.map((v) => [v.labels.state, v.value]));
    expect(byState).toEqual(counts);
  });
});
