import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { ExecutionStore } from '@cronbundle/executions';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import type { ReuploadPayload } from '@cronbundle/queue';
import { JobRegistry } from '@cronbundle/registry';
import { bundleObjectName, Uploaders } from '@cronbundle/upload';
import { WorkerMetrics } from './worker.metrics';

/**
 * `POST /executions/:id/reupload` (ARCHITECTURE.md §6): copy a finished execution's bundle from
 * where it was uploaded to its job's current destination (`upload.url`, else UPLOAD_DEFAULT_URL),
 * under the same object name, and record the outcome on the execution (`reupload`; on success
 * `upload` points at the new copy). Bundles are read from `file://` locations; other schemes are
 * refused with a clear error until their uploaders can read back.
 */
@Injectable()
export class ReuploadHandler {
  constructor(
    private readonly registry: JobRegistry,
    private readonly store: ExecutionStore,
    private readonly uploaders: Uploaders,
    private readonly metrics: WorkerMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(payload: ReuploadPayload): Promise<{ executionId: string; status: string; url?: string }> {
    const started = performance.now();
    const record = await this.store.get(payload.executionId);
    const request = record?.reupload;
    if (!record || !request || Date.parse(request.requestedAt) !== payload.requestedAt) {
      // Deleted by retention, or replaced by a newer request (which has its own queue job).
      return { executionId: payload.executionId, status: 'superseded' };
    }
    const log = this.logger.child({ executionId: record.id, jobId: record.jobId });
    const fail = async (error: string) => {
      this.metrics.uploadFailures.inc();
      log.warn({ from: request.from }, `re-upload failed: ${error}`);
      await this.store.recordReupload(record.id, request.requestedAt, {
        status: 'failed',
        error,
        ms: Math.round(performance.now() - started),
      });
      return { executionId: record.id, status: 'failed' };
    };

    const job = await this.registry.find(record.jobId);
    if (!job) return fail(`job ${record.jobId} no longer exists`);
    const destination = job.upload?.url ?? this.config.worker.uploadDefaultUrl;
    if (!destination) return fail('the job has no upload destination (upload.url or UPLOAD_DEFAULT_URL)');
    if (!request.from.startsWith('file://'))
      return fail(`cannot read the bundle back from ${schemeOf(request.from)} locations (only file://)`);
    const source = fileURLToPath(request.from);
    const info = await stat(source).catch(() => undefined);
    if (!info?.isFile()) return fail(`the bundle is no longer at ${request.from}`);

    const scheduledFor = record.scheduledFor ? Date.parse(record.scheduledFor) : Date.parse(record.queuedAt ?? '');
    try {
      const result = await this.uploaders.upload({
        file: source,
        destination,
        objectName: bundleObjectName(record.jobId, scheduledFor, record.id),
        sizeBytes: info.size,
        ...(record.bundle?.sha256 ? { sha256: record.bundle.sha256 } : {}),
      });
      const ms = Math.round(performance.now() - started);
      await this.store.recordReupload(record.id, request.requestedAt, { status: 'succeeded', url: result.url, ms });
      log.info({ from: request.from, url: result.url, ms }, 're-uploaded the bundle');
      return { executionId: record.id, status: 'succeeded', url: result.url };
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
  }
}

function schemeOf(url: string): string {
  try {
    return new URL(url).protocol.replace(/:$/, '');
  } catch {
    return 'unknown';
  }
}
