import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { JobDefinition } from '@cronbundle/core';
import { ExecutionStore } from '@cronbundle/executions';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { JobName, QueueName, runJobId, runJobOptions, type RunPayload } from '@cronbundle/queue';
import { JobRegistry } from '@cronbundle/registry';

/**
 * `dependsOn`: when a run of job A succeeds, each enabled job depending on A runs once (trigger
 * `dependency`). Called once per succeeded execution (the finish transition happens once).
 */
@Injectable()
export class DependencyTrigger {
  /** Once the index is complete it stays so (writers keep it), so this is checked until true. */
  private indexReady = false;

  constructor(
    private readonly registry: JobRegistry,
    private readonly store: ExecutionStore,
    @InjectQueue(QueueName.Runs) private readonly runs: Queue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async afterSuccess(jobId: string, executionId: string): Promise<string[]> {
    const dependents = await this.dependentsOf(jobId);
    const started: string[] = [];
    for (const job of dependents) {
      const record = await this.store.create({ jobId: job.id, trigger: 'dependency', scheduledFor: Date.now() });
      await this.store.log(record.id, {
        level: 'info',
        component: 'dependency',
        message: `triggered by execution ${executionId} of job ${jobId}`,
      });
      const payload: RunPayload = { jobId: job.id, trigger: 'dependency', executionId: record.id };
      await this.runs.add(JobName.Run, payload, { ...runJobOptions(job), jobId: runJobId('dependency', record.id) });
      started.push(record.id);
    }
    if (started.length) this.logger.info({ jobId, executionId, started }, 'triggered dependent jobs');
    return started;
  }

  /**
   * Enabled jobs whose dependsOn contains `jobId`: the ids from the registry's dependants index (one
   * SMEMBERS), then the definitions themselves (one MGET), re-checked, since they are the truth.
   * Until the index has been built once (`dependantsIndexReady`, set by the scheduler leader's
   * rebuild), the registry is scanned as before.
   */
  private async dependentsOf(jobId: string): Promise<JobDefinition[]> {
    if (!this.indexReady) this.indexReady = await this.registry.dependantsIndexReady();
    if (!this.indexReady) return this.scanRegistry(jobId);
    const ids = await this.registry.dependantsOf(jobId);
    if (ids.length === 0) return [];
    const defs = await this.registry.findMany(ids);
    return defs.filter((j): j is JobDefinition => !!j && j.enabled && j.dependsOn.includes(jobId));
  }

  private async scanRegistry(jobId: string): Promise<JobDefinition[]> {
    const found: JobDefinition[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.registry.list({ limit: 500, ...(cursor ? { cursor } : {}) });
      found.push(...page.items.filter((j) => j.enabled && j.dependsOn.includes(jobId)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return found;
  }
}
