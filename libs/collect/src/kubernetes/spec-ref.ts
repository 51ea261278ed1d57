import { KubeClient } from './kube-client';
import { loadClusterConfig, NoClusterError, type LoadClusterOptions } from './kube-config';

/** The key `kubectl support-bundle secret/<ns>/<name>` reads (troubleshoot's SupportBundleKey). */
export const SUPPORT_BUNDLE_SPEC_KEY = 'support-bundle-spec';

export interface KubernetesSpecRef {
  kind: 'secret' | 'configmap';
  namespace: string;
  name: string;
}

const REF = /^(secret|configmap)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/** True when `specRef` names a Kubernetes Secret or ConfigMap (`secret/<ns>/<name>`, `configmap/<ns>/<name>`). */
export function isKubernetesSpecRef(specRef: string): boolean {
  return /^(secret|configmap)\//.test(specRef);
}

/** Parse `secret/<ns>/<name>` or `configmap/<ns>/<name>`; throws naming what is wrong. */
export function parseKubernetesSpecRef(specRef: string): KubernetesSpecRef {
  const m = REF.exec(specRef);
  if (!m)
    throw new Error(
      `specRef "${specRef}" must be secret/<namespace>/<name> or configmap/<namespace>/<name> (Kubernetes names)`,
    );
  return { kind: m[1] as KubernetesSpecRef['kind'], namespace: m[2]!, name: m[4]! };
}

export interface ResolveSpecRefOptions extends LoadClusterOptions {
  /** Environment naming the cluster (KUBECONFIG, HOME, KUBERNETES_SERVICE_*): the worker's own. */
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/**
 * The spec text stored under `support-bundle-spec` in the referenced Secret or ConfigMap, read with
 * the same client and cluster configuration as the Kubernetes collectors. Errors name the object and
 * the API's reason, never the object's contents.
 */
export async function resolveKubernetesSpecRef(specRef: string, options: ResolveSpecRefOptions): Promise<string> {
  const ref = parseKubernetesSpecRef(specRef);
  const config = await loadClusterConfig(options.env, options);
  if (!config) throw new Error(`specRef "${specRef}" cannot be read: ${new NoClusterError().message}`);
  const client = new KubeClient(config, options.signal);
  let object;
  try {
    object =
      ref.kind === 'secret'
        ? await client.readSecret(ref.namespace, ref.name)
        : await client.readConfigMap(ref.namespace, ref.name);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`specRef "${specRef}" cannot be read: ${reason}`, { cause: err });
  }
  const data = (object as { data?: Record<string, unknown>; stringData?: Record<string, unknown> }).data ?? {};
  const raw = data[SUPPORT_BUNDLE_SPEC_KEY];
  if (typeof raw !== 'string')
    throw new Error(`specRef "${specRef}": the ${ref.kind} has no key "${SUPPORT_BUNDLE_SPEC_KEY}"`);
  return ref.kind === 'secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
}
