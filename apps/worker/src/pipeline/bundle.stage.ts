import { Injectable } from '@nestjs/common';
import { bundleFileName } from '@cronbundle/upload';
import type { BundleStage, CollectedBundle, RunContext } from './pipeline.types';

/** The bundle was written while collecting (streaming); this stage names and describes it. */
@Injectable()
export class SummaryBundleStage implements BundleStage {
  async describe(ctx: RunContext, bundle: CollectedBundle) {
    if (bundle.sizeBytes === 0) throw new Error('the bundle is empty');
    return {
      name: bundleFileName(ctx.job.id, ctx.scheduledFor, ctx.executionId),
      sizeBytes: bundle.sizeBytes,
      sha256: bundle.sha256,
      files: bundle.files,
    };
  }
}
