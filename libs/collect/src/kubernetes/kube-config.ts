import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isIPv6 } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeLib } from './kube-lib';

export const SERVICE_ACCOUNT_ROOT = '/var/run/secrets/kubernetes.io/serviceaccount';

export const NO_CLUSTER_MESSAGE =
  'no cluster configured (no KUBECONFIG, no ~/.kube/config and no in-cluster service account)';

/** Thrown by Kubernetes collectors when there is nothing to talk to; the run records it and goes on. */
export class NoClusterError extends Error {
  override readonly name = 'NoClusterError';
  constructor() {
    super(NO_CLUSTER_MESSAGE);
  }
}

export interface LoadClusterOptions {
  /** Where an in-cluster pod finds its token, CA and namespace (tests point it at a temp dir). */
  serviceAccountRoot?: string;
}

/**
 * KubeConfig.loadFromDefault's order, read from the given environment instead of process.env (the
 * worker passes its own environment; tests pass a private one): `KUBECONFIG` (a path list, merged),
 * then `$HOME/.kube/config`, then the in-cluster service account. Where loadFromDefault would fall
 * back to an unauthenticated `http://localhost:8080`, this returns undefined: no cluster configured.
 */
export async function loadClusterConfig(
  env: Record<string, string | undefined>,
  options: LoadClusterOptions = {},
): Promise<KubeConfig | undefined> {
  const { KubeConfig } = await loadKubeLib();
  const kc = new KubeConfig();
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f.length > 0);
  if (files.length > 0) {
    kc.loadFromFile(files[0]!);
    for (const file of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more, true);
    }
    return kc;
  }
  const home = env.HOME;
  if (home) {
    const file = join(home, '.kube', 'config');
    if (existsSync(file)) {
      kc.loadFromFile(file);
      return kc;
    }
  }
  const root = options.serviceAccountRoot ?? SERVICE_ACCOUNT_ROOT;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host && port && existsSync(join(root, 'token'))) {
    // Same shape as KubeConfig.loadFromCluster, which reads process.env itself.
    const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
    const namespaceFile = join(root, 'namespace');
    const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
    kc.loadFromOptions({
      clusters: [
        {
          name: 'inCluster',
          server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
          caFile: join(root, 'ca.crt'),
          skipTLSVerify: false,
        },
      ],
      users: [
        { name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: join(root, 'token') } } },
      ],
      contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', namespace }],
      currentContext: 'inClusterContext',
    });
    return kc;
  }
  return undefined;
}

/** The namespace of the current context, else `default` (what kubectl does). */
export function contextNamespace(kc: KubeConfig): string {
  const context = kc.getContextObject(kc.getCurrentContext());
  return context?.namespace || 'default';
}
