import { Injectable } from '@nestjs/common';
import { Metrics } from '@cronbundle/observability';

/** ARCHITECTURE.md §9 metrics the scheduler owns. */
@Injectable()
export class SchedulerMetrics {
  readonly leader;
  readonly leaderTransitions;
  readonly jobs;
  readonly slots;
  readonly reconcileSeconds;

  constructor(metrics: Metrics) {
    this.leader = metrics.gauge('leader', '1 while this scheduler is the leader');
    this.leaderTransitions = metrics.counter(
      'leader_transitions_total',
      'Times this scheduler became or stopped being leader',
    );
    this.jobs = metrics.gauge('jobs', 'Job definitions by enabled state (leader only)', ['enabled']);
    this.slots = metrics.counter('slots_total', 'Scheduled slots by outcome (ran | skipped | missed)', ['outcome']);
    this.reconcileSeconds = metrics.histogram(
      'reconcile_duration_seconds',
      'Full reconcile of the registry into BullMQ job schedulers',
      [],
      [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
    );
  }
}
