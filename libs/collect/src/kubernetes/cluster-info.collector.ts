import { defineCollector } from '../framework/collector.types';
import { errorText, kubeClientFor } from './kube-context';
import type { ClusterInfoSpec } from './kubernetes-schemas';

/** `cluster-info/cluster_version.json` = `{info: <GET /version>, string: gitVersion}`, as troubleshoot writes it. */
export const clusterInfoCollector = defineCollector<ClusterInfoSpec>({
  type: 'clusterInfo',
  scope: 'cluster',
  defaultTitle: 'cluster-info',
  async collect(ctx) {
    const client = await kubeClientFor(ctx);
    let info;
    try {
      info = await client.serverVersion();
    } catch (err) {
      await ctx.output.addJson('cluster-info/errors.json', [errorText(err)]);
      throw err;
    }
    await ctx.output.addJson('cluster-info/cluster_version.json', {
      info,
      string: typeof info.gitVersion === 'string' ? info.gitVersion : '',
    });
  },
});
