import { Inject, Injectable } from '@nestjs/common';
import type { StageName } from '@cronbundle/core';
import type { ExecutionDetails } from '@cronbundle/executions';
import {
  ANALYZE_STAGE,
  BUNDLE_STAGE,
  COLLECT_STAGE,
  REDACT_STAGE,
  StageError,
  UPLOAD_STAGE,
  type AnalyzeStage,
  type BundleStage,
  type CollectStage,
  type RedactStage,
  type RunContext,
  type UploadStage,
} from './pipeline.types';

/** Called after each stage with its duration, so the record and the histogram see it at once. */
export type StageListener = (stage: StageName, ms: number) => Promise<void>;

/**
 * collect → analyze → redact → bundle → upload, each behind its interface. Notify runs after the
 * record is final (the runtime calls it), so a notification reports the real outcome.
 */
@Injectable()
export class RunPipeline {
  constructor(
    @Inject(COLLECT_STAGE) private readonly collectStage: CollectStage,
    @Inject(ANALYZE_STAGE) private readonly analyzeStage: AnalyzeStage,
    @Inject(REDACT_STAGE) private readonly redactStage: RedactStage,
    @Inject(BUNDLE_STAGE) private readonly bundleStage: BundleStage,
    @Inject(UPLOAD_STAGE) private readonly uploadStage: UploadStage,
  ) {}

  async run(ctx: RunContext, onStage: StageListener): Promise<ExecutionDetails> {
    const details: ExecutionDetails = {};
    const collected = await this.stage(ctx, 'collect', onStage, () => this.collectStage.collect(ctx));
    details.collectors = collected.collectors;
    const analysis = await this.stage(ctx, 'analyze', onStage, () => this.analyzeStage.analyze(ctx, collected));
    if (analysis) details.analysis = analysis;
    await this.stage(ctx, 'redact', onStage, () => this.redactStage.redact(ctx, collected));
    details.bundle = await this.stage(ctx, 'bundle', onStage, () => this.bundleStage.describe(ctx, collected));
    const started = performance.now();
    const uploaded = await this.stage(ctx, 'upload', onStage, () => this.uploadStage.upload(ctx, collected));
    if (uploaded) details.upload = { url: uploaded.url, ms: Math.round(performance.now() - started) };
    return details;
  }

  private async stage<T>(ctx: RunContext, name: StageName, onStage: StageListener, work: () => Promise<T>): Promise<T> {
    // An abort between stages stops the run before the next one starts.
    if (ctx.signal.aborted) throw new StageError(name, ctx.signal.reason);
    const started = performance.now();
    let result: T;
    try {
      result = await work();
    } catch (err) {
      // The abort reason (cancel, timeout, ...) says more than whatever the stage threw.
      throw new StageError(name, ctx.signal.aborted ? ctx.signal.reason : err);
    }
    await onStage(name, performance.now() - started);
    return result;
  }
}
