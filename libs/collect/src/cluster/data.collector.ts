import { defineCollector } from '../framework/collector.types';
import type { ClusterCollectorSpec } from '../spec/collector-schemas';

/** `<name>/<collectorName>` holding `data` verbatim, as written in the spec (references unresolved). */
export const dataCollector = defineCollector<ClusterCollectorSpec<'data'>>({
  type: 'data',
  scope: 'cluster',
  defaultTitle: 'data',
  async collect(ctx) {
    const file = ctx.rawSpec.collectorName || 'data';
    const name = ctx.rawSpec.name ?? '';
    await ctx.output.addFile(name ? `${name}/${file}` : file, ctx.rawSpec.data);
  },
});
