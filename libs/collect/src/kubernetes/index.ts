import { clusterInfoCollector } from './cluster-info.collector';
import { clusterResourcesCollector } from './cluster-resources.collector';
import { logsCollector } from './logs.collector';
import { configMapCollector, secretCollector } from './secret-configmap.collector';

/** The Kubernetes collectors, registered by createDefaultRegistry. */
export const KUBERNETES_COLLECTORS = [
  clusterInfoCollector,
  clusterResourcesCollector,
  logsCollector,
  secretCollector,
  configMapCollector,
] as const;

export { KUBERNETES_COLLECTOR_SCHEMAS } from './kubernetes-schemas';
export { loadClusterConfig, NoClusterError, NO_CLUSTER_MESSAGE } from './kube-config';
export {
  isKubernetesSpecRef,
  parseKubernetesSpecRef,
  resolveKubernetesSpecRef,
  SUPPORT_BUNDLE_SPEC_KEY,
} from './spec-ref';
export type { KubernetesSpecRef, ResolveSpecRefOptions } from './spec-ref';
