import type { CollectorContext } from '../framework/collector.types';
import { KubeClient } from './kube-client';
import { loadClusterConfig, NoClusterError } from './kube-config';

/**
 * The client for one collector run, from the cluster configuration the worker's environment names
 * (KUBECONFIG, ~/.kube/config, in-cluster service account); NoClusterError when there is none.
 */
export async function kubeClientFor(ctx: CollectorContext<object>): Promise<KubeClient> {
  let config;
  try {
    config = await loadClusterConfig(ctx.policy.env);
  } catch (err) {
    throw new Error(`cannot load the cluster configuration: ${errorText(err)}`, { cause: err });
  }
  if (!config) throw new NoClusterError();
  return new KubeClient(config, ctx.signal);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
