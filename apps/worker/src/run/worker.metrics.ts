import { Injectable } from '@nestjs/common';
import { Metrics } from '@cronbundle/observability';

/** The worker's metrics (ARCHITECTURE.md §9), declared once. */
@Injectable()
export class WorkerMetrics {
  readonly executions;
  readonly active;
  readonly stageDuration;
  readonly bundleSize;
  readonly scheduleLag;
  readonly redeliveries;
  readonly retries;
  readonly overruns;
  readonly uploadFailures;
  readonly queueJobs;

  constructor(metrics: Metrics) {
    this.executions = metrics.counter('executions_total', 'Runs that ended, by final status.', [
      'job',
      'status',
      'trigger',
    ]);
    this.active = metrics.gauge('executions_active', 'Runs this worker is executing now.');
    this.stageDuration = metrics.histogram(
      'execution_duration_seconds',
      'Duration of each pipeline stage.',
      ['stage'],
      [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    );
    this.bundleSize = metrics.histogram(
      'bundle_size_bytes',
      'Compressed size of produced bundles.',
      [],
      [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9],
    );
    this.scheduleLag = metrics.histogram(
      'schedule_lag_seconds',
      'Start of a scheduled run minus its slot time.',
      [],
      [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
    );
    this.redeliveries = metrics.counter(
      'redeliveries_total',
      'Runs picked up again after their worker died or stalled.',
    );
    this.retries = metrics.counter('retries_total', 'Failed attempts handed back for another attempt.');
    this.overruns = metrics.counter('overruns_total', "Runs that lasted longer than their job's interval.", ['job']);
    this.uploadFailures = metrics.counter('upload_failures_total', 'Bundle uploads that failed.');
    this.queueJobs = metrics.gauge('queue_jobs', 'BullMQ jobs of the runs queue by state.', ['state']);
  }
}
