import { stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { defineCollector } from '../framework/collector.types';
import type { HostCollectorSpec } from '../spec/collector-schemas';

export const diskUsageCollector = defineCollector<HostCollectorSpec<'diskUsage'>>({
  type: 'diskUsage',
  scope: 'host',
  defaultTitle: 'Disk Usage',
  async collect(ctx) {
    // Like troubleshoot: a path that does not exist yet is measured on its nearest existing parent.
    let path = resolve(ctx.spec.path);
    while (
      !(await stat(path).then(
        () => true,
        () => false,
      ))
    ) {
      const parent = dirname(path);
      if (parent === path) break;
      path = parent;
    }
    const fs = await statfs(path);
    const total = fs.blocks * fs.bsize;
    const used = (fs.blocks - fs.bfree) * fs.bsize;
    await ctx.output.addJson(`host-collectors/diskUsage/${ctx.rawSpec.collectorName || 'diskUsage'}.json`, {
      total_bytes: total,
      used_bytes: used,
    });
  },
});
