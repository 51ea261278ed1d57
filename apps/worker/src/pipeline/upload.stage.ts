import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { bundleObjectName, Uploaders } from '@cronbundle/upload';
import type { CollectedBundle, RunContext, UploadStage } from './pipeline.types';

/** Ships the bundle to the job's `upload.url`, or UPLOAD_DEFAULT_URL, through libs/upload. */
@Injectable()
export class DestinationUploadStage implements UploadStage {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly uploaders: Uploaders,
  ) {}

  async upload(ctx: RunContext, bundle: CollectedBundle): Promise<{ url: string } | undefined> {
    const destination = ctx.job.upload?.url ?? this.config.worker.uploadDefaultUrl;
    if (!destination) {
      ctx.log('warn', 'upload', 'no upload destination (job upload.url or UPLOAD_DEFAULT_URL): the bundle is not kept');
      return undefined;
    }
    return this.uploaders.upload({
      file: bundle.file,
      destination,
      objectName: bundleObjectName(ctx.job.id, ctx.scheduledFor, ctx.executionId),
      sizeBytes: bundle.sizeBytes,
      sha256: bundle.sha256,
      signal: ctx.signal,
    });
  }
}
