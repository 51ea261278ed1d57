import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_PREFIX = 'cronbundle_';

/**
 * The process's Prometheus registry. Metrics are declared where they are used with
 * `counter()/gauge()/histogram()`, which return the existing metric when called again with the
 * same name, so two services can share one without a registration race.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.getOrCreate(
      name,
      () => new Counter({ name: METRIC_PREFIX + name, help, labelNames, registers: [this.registry] }),
    );
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.getOrCreate(
      name,
      () => new Gauge({ name: METRIC_PREFIX + name, help, labelNames, registers: [this.registry] }),
    );
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets?: number[],
  ): Histogram<L> {
    return this.getOrCreate(
      name,
      () => new Histogram({ name: METRIC_PREFIX + name, help, labelNames, buckets, registers: [this.registry] }),
    );
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private getOrCreate<M>(name: string, make: () => M): M {
    return (this.registry.getSingleMetric(METRIC_PREFIX + name) as M | undefined) ?? make();
  }
}
