import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { RunLock } from '@cronbundle/coordination';
import { ConflictError, LockedError, NotFoundError, type ExecutionStatus } from '@cronbundle/core';
import { AuditLog, ExecutionStore, type Execution } from '@cronbundle/executions';
import { JobName, QueueName, runJobId, runJobOptions, type RunPayload } from '@cronbundle/queue';
import { JobRegistry } from '@cronbundle/registry';
import type { Actor } from '../auth/token-store';

/** The part of BullMQ's Queue the api uses (the api does not import BullMQ: ARCHITECTURE.md §1). */
export interface RunQueue {
  add(
    name: JobName.Run,
    data: RunPayload,
    options: ReturnType<typeof runJobOptions> & { jobId: string },
  ): Promise<unknown>;
}

/**
 * Manual triggers, execution history, cancel. A manual run gets its own record and BullMQ job and
 * never moves the job's cron slots (docs/WORKER.md).
 */
@Injectable()
export class ExecutionsService {
  constructor(
    private readonly registry: JobRegistry,
    private readonly store: ExecutionStore,
    private readonly runLock: RunLock,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @InjectQueue(QueueName.Runs) private readonly runs: RunQueue,
  ) {}

  /** 404 unknown job; LockedError (409) while a run holds the lock and the policy is not `allow`. */
  async trigger(actor: Actor, jobId: string): Promise<Execution> {
    const job = await this.registry.get(jobId);
    if (job.overlapPolicy !== 'allow') {
      const lock = await this.runLock.inspect(job.id);
      if (lock) throw new LockedError(job.id, lock);
    }
    const scheduledFor = Date.now();
    const record = await this.store.create({ jobId: job.id, trigger: 'manual', scheduledFor });
    await this.store.log(record.id, { level: 'info', component: 'api', message: `triggered by ${actor.name}` });
    const payload: RunPayload = { jobId: job.id, trigger: 'manual', scheduledFor, executionId: record.id };
    // The deterministic job id makes a retried enqueue of the same execution a no-op.
    await this.runs.add(JobName.Run, payload, { ...runJobOptions(job), jobId: runJobId('manual', record.id) });
    await this.audit.append({
      actor: actor.name,
      action: 'job.trigger',
      target: `job/${job.id}`,
      before: null,
      after: { executionId: record.id },
    });
    return record;
  }

  async listForJob(jobId: string, q: { status?: ExecutionStatus; limit?: number; cursor?: string }) {
    const job = await this.registry.get(jobId);
    return this.store.listForJob(job.id, q);
  }

  async get(id: string): Promise<Execution> {
    const record = await this.store.get(id, { logs: true });
    if (!record) throw new NotFoundError('execution', id);
    return record;
  }

  /** 404 unknown; 409 finished; otherwise cancelled at once (queued) or signalled to its worker. */
  async cancel(actor: Actor, id: string): Promise<{ executionId: string; status: 'cancelled' | 'cancelling' }> {
    const result = await this.store.requestCancel(id, `cancelled by ${actor.name}`);
    if (result === 'missing') throw new NotFoundError('execution', id);
    if (result === 'finished') throw new ConflictError(`execution ${id} has already finished`, 'finished');
    await this.audit.append({
      actor: actor.name,
      action: 'execution.cancel',
      target: `execution/${id}`,
      before: null,
      after: { result },
    });
    return { executionId: id, status: result === 'cancelled' ? 'cancelled' : 'cancelling' };
  }

  /** Re-upload is not implemented yet: the worker keeps no local copy after uploading. */
  async reupload(id: string): Promise<never> {
    await this.get(id);
    throw new ConflictError(
      `execution ${id} has nothing to re-upload (no local copy of its bundle is kept)`,
      'nothing_to_reupload',
    );
  }

  /** The bundle of an execution uploaded to a `file://` destination this api can read; 404 otherwise. */
  async bundle(id: string): Promise<{ name: string; size: number; stream: Readable }> {
    const record = await this.get(id);
    const url = record.upload?.url;
    if (!url || !url.startsWith('file://')) throw new NotFoundError('bundle of execution', id);
    const path = fileURLToPath(url);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new NotFoundError('bundle of execution', id);
    return { name: record.bundle?.name ?? path.split('/').pop()!, size: info.size, stream: createReadStream(path) };
  }
}
