import type { Collector, CollectorScope } from './collector.types';

/** Collector implementations by scope and type; a second registration for a type is a bug. */
export class CollectorRegistry {
  private readonly byKey = new Map<string, Collector>();

  constructor(collectors: readonly Collector[] = []) {
    for (const c of collectors) this.register(c);
  }

  register(collector: Collector): this {
    const key = `${collector.scope}:${collector.type}`;
    if (this.byKey.has(key)) throw new Error(`collector ${key} registered twice`);
    this.byKey.set(key, collector);
    return this;
  }

  get(scope: CollectorScope, type: string): Collector | undefined {
    return this.byKey.get(`${scope}:${type}`);
  }

  types(scope: CollectorScope): string[] {
    return [...this.byKey.values()].filter((c) => c.scope === scope).map((c) => c.type);
  }
}
