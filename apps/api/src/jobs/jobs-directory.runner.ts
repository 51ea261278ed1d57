import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { JobRegistry, JobsDirectorySource } from '@cronbundle/registry';
import { JOB_PARSE_OPTIONS } from './jobs.service';

/**
 * JOBS_DIR: the api loads the YAML job files into the registry as `source: file` and re-syncs on
 * change. Several api replicas may all do it: a sync is idempotent (content hashes), so they agree.
 * A directory that cannot be read stops the boot; a bad file is logged and the others still load.
 */
@Injectable()
export class JobsDirectoryRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private source?: JobsDirectorySource;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: JobRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const dir = this.config.api.jobsDir;
    if (!dir) return;
    this.source = new JobsDirectorySource({
      ...JOB_PARSE_OPTIONS,
      dir,
      sink: this.registry,
      onSync: (report) => {
        for (const e of report.errors) {
          this.logger.warn(
            { file: e.file, document: e.document, path: e.path },
            `JOBS_DIR: ${e.file}: ${e.path ? `${e.path}: ` : ''}${e.message}`,
          );
        }
        for (const c of report.sync.conflicts) this.logger.warn({ job: c.id }, `JOBS_DIR: job ${c.id}: ${c.reason}`);
        const { created, updated, deleted } = report.sync;
        if (created.length + updated.length + deleted.length) {
          this.logger.info({ created, updated, deleted, files: report.files.length }, 'JOBS_DIR synced');
        }
      },
      onError: (err) => this.logger.error({ err }, 'JOBS_DIR sync failed'),
    });
    try {
      await this.source.start();
    } catch (err) {
      throw new Error(`JOBS_DIR ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.source?.stop();
  }
}
