import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { RunLock } from '@cronbundle/coordination';
import { ConflictError, isTerminalStatus, LockedError, NotFoundError, type ExecutionStatus } from '@cronbundle/core';
import { AuditLog, ExecutionStore, type Execution } from '@cronbundle/executions';
import {
  JobName,
  QueueName,
  reuploadJobId,
  runJobId,
  runJobOptions,
  type ReuploadPayload,
  type RunPayload,
} from '@cronbundle/queue';
import { JobRegistry } from '@cronbundle/registry';
import type { Actor } from '../auth/token-store';

/** The part of BullMQ's Queue the api uses (the api does not import BullMQ: ARCHITECTURE.md §1). */
export interface RunQueue {
  add(
    name: JobName.Run,
    data: RunPayload,
    options: ReturnType<typeof runJobOptions> & { jobId: string },
  ): Promise<unknown>;
  add(name: JobName.Reupload, data: ReuploadPayload, options: ReuploadJobOptions): Promise<unknown>;
}

interface ReuploadJobOptions {
  jobId: string;
  attempts: number;
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number; count: number };
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

  /**
   * Upload a finished execution's bundle again, from where it was uploaded to its job's current
   * destination; a worker does it (it holds the upload credentials) and records the outcome on the
   * execution (`reupload`). 404 unknown; 409 when there is no bundle to re-upload. A request made
   * while an earlier one is still queued answers with that one.
   */
  async reupload(
    actor: Actor,
    id: string,
  ): Promise<{ executionId: string; status: 'queued'; requestedAt: string; from: string }> {
    const record = await this.get(id);
    const nothing = (why: string) =>
      new ConflictError(`execution ${id} has nothing to re-upload: ${why}`, 'nothing_to_reupload');
    if (!isTerminalStatus(record.status)) throw nothing(`it has not finished (status ${record.status})`);
    const from = record.upload?.url;
    if (!from) {
      throw nothing(
        record.status === 'succeeded'
          ? 'its bundle was not kept (no upload destination when it ran)'
          : `it ended ${record.status} without an uploaded bundle`,
      );
    }
    if (from.startsWith('file://') && !(await stat(fileURLToPath(from)).catch(() => undefined))?.isFile())
      throw nothing(`its bundle is no longer at ${from}`);
    if (!(await this.registry.find(record.jobId)))
      throw nothing(`its job ${record.jobId} no longer exists, so there is no destination`);

    const requested = await this.store.requestReupload(id, { requestedBy: actor.name });
    if (requested.kind === 'missing') throw new NotFoundError('execution', id);
    if (requested.kind === 'pending') {
      const pending = (await this.get(id)).reupload!;
      return { executionId: id, status: 'queued', requestedAt: pending.requestedAt, from: pending.from };
    }
    if (requested.kind !== 'queued')
      throw nothing(requested.kind === 'unfinished' ? 'it has not finished' : 'it has no uploaded bundle');
    const { reupload } = requested;
    const requestedAt = Date.parse(reupload.requestedAt);
    await this.runs.add(
      JobName.Reupload,
      { executionId: id, requestedAt },
      {
        jobId: reuploadJobId(id, requestedAt),
        attempts: 1,
        removeOnComplete: { age: 24 * 3600, count: 1000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
      },
    );
    await this.audit.append({
      actor: actor.name,
      action: 'execution.reupload',
      target: `execution/${id}`,
      before: null,
      after: { from: reupload.from },
    });
    return { executionId: id, status: 'queued', requestedAt: reupload.requestedAt, from: reupload.from };
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
