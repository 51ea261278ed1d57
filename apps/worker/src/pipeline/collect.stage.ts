import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { isSpecRef, type JobDefinition } from '@cronbundle/core';
import { collectToBundle, loadSpecRef, type SpecInput } from '@cronbundle/collect';
import type { CollectedBundle, CollectStage, RunContext } from './pipeline.types';

/** A job without a spec still produces a bundle (version.yaml, summary): an empty SupportBundle. */
const EMPTY_SPEC = { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: {} };

/** Runs the job's collectors (libs/collect) straight into a tar.gz in the run's work directory. */
@Injectable()
export class BundleCollectStage implements CollectStage {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async collect(ctx: RunContext): Promise<CollectedBundle> {
    const file = join(ctx.workDir, 'bundle.tar.gz');
    const policy = this.config.worker.collect;
    const { bundle, collectors, limits } = await collectToBundle({
      spec: await specOf(ctx.job, policy.allowedPaths),
      destination: createWriteStream(file),
      // A job without its own limit gets the worker's MAX_BUNDLE_BYTES.
      maxBundleBytes: ctx.job.limits.maxBundleBytes ?? policy.maxBundleBytes,
      // The job's timeout bounds the run; a collector may set a shorter `timeout` of its own.
      collectorTimeoutMs: ctx.job.timeoutSeconds * 1000,
      allowRun: policy.allowRun,
      allowedPaths: policy.allowedPaths,
      httpAllow: policy.httpAllow,
      external: ctx.job.collector === 'support-bundle',
      env: process.env,
      signal: ctx.signal,
      tmpDir: ctx.workDir,
      onProgress: (event) => {
        if (event.type === 'collector:end' && event.error !== undefined)
          ctx.log('warn', 'collector', `${event.collector} "${event.name}" failed: ${event.error}`);
        else if (event.type === 'collector:end' && event.truncated)
          ctx.log('warn', 'collector', `${event.collector} "${event.name}": output truncated at its size cap`);
        else if (event.type === 'log' && event.entry.level !== 'debug')
          ctx.log(event.entry.level, 'collector', `${event.entry.collector}: ${event.entry.message}`);
      },
    });
    if (limits?.exhausted)
      ctx.log(
        'warn',
        'collector',
        `bundle size limit of ${limits.maxBundleBytes} bytes reached; truncated: ${limits.truncatedCollectors.join(', ') || 'none'}; not run: ${limits.skippedCollectors.join(', ') || 'none'}`,
      );
    return {
      file,
      name: bundle.name,
      sizeBytes: bundle.sizeBytes,
      sha256: bundle.sha256,
      files: bundle.files,
      collectors: { total: collectors.total, failed: collectors.failed },
    };
  }
}

async function specOf(job: JobDefinition, allowedPaths: string[]): Promise<SpecInput> {
  if (job.spec === undefined) return EMPTY_SPEC;
  // `file:<path>` below COLLECT_ALLOWED_PATHS, or `secret/<ns>/<name>` / `configmap/<ns>/<name>` from the
  // cluster the worker's KUBECONFIG or service account names; read at run time so an edit applies to the next run.
  if (isSpecRef(job.spec)) return loadSpecRef(job.spec.specRef, { allowedPaths, env: process.env });
  return job.spec as SpecInput;
}
