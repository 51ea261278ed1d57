import { Injectable } from '@nestjs/common';
import type {
  AnalysisSummary,
  AnalyzeStage,
  CollectedBundle,
  NotifyStage,
  RedactStage,
  RunContext,
} from './pipeline.types';

/** Placeholder until libs/analyze lands: analyses nothing and says so in the run's log. */
@Injectable()
export class NoopAnalyzeStage implements AnalyzeStage {
  async analyze(ctx: RunContext, _bundle: CollectedBundle): Promise<AnalysisSummary | undefined> {
    if (ctx.job.analyze) ctx.log('debug', 'analyze', 'analysis is not implemented yet (no-op stage)');
    return undefined;
  }
}

/** Placeholder until libs/redact lands: the bundle is not redacted yet. */
@Injectable()
export class NoopRedactStage implements RedactStage {
  async redact(ctx: RunContext, _bundle: CollectedBundle): Promise<void> {
    if (ctx.job.redact) ctx.log('debug', 'redact', 'redaction is not implemented yet (no-op stage)');
  }
}

/** Placeholder until libs/notify lands: the failure/success hooks fire here and do nothing. */
@Injectable()
export class NoopNotifyStage implements NotifyStage {
  async notify(ctx: RunContext, event: string): Promise<void> {
    if (ctx.job.notify.some((n) => n.on.some((e) => e === event)))
      ctx.log('debug', 'notify', `notification "${event}" is not implemented yet (no-op stage)`);
  }
}
