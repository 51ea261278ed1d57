export {
  parseSpec,
  validateSpec,
  requiresAdmin,
  entryType,
  entryBody,
  SpecError,
  SPEC_API_VERSIONS,
  SPEC_KINDS,
} from './spec/spec-parser';
export type { NormalizedSpec, SpecEntry, SpecInput, SpecIssue } from './spec/spec-parser';
export {
  ANALYZER_TYPES,
  ADMIN_COLLECTOR_TYPES,
  HOST_COLLECTOR_SCHEMAS,
  CLUSTER_COLLECTOR_SCHEMAS,
} from './spec/collector-schemas';
export type {
  DatabaseSpec,
  RedactorSpec,
  HostCollectorType,
  ClusterCollectorType,
  HostCollectorSpec,
  ClusterCollectorSpec,
} from './spec/collector-schemas';
export { parseGoDuration } from './spec/duration';
export { loadSpecRef, SpecRefError, MAX_SPEC_FILE_BYTES } from './spec/spec-ref';
export type { SpecRefOptions } from './spec/spec-ref';
export {
  SUPPORT_BUNDLE_BINARY,
  SUPPORT_BUNDLE_INSTALL_HELP,
  SupportBundleNotInstalledError,
  findExecutable,
} from './external/support-bundle';
export { BundleBudget } from './framework/bundle-budget';
export { defineCollector } from './framework/collector.types';
export type {
  BundleSink,
  Collector,
  CollectorContext,
  CollectorLimits,
  CollectorOutput,
  CollectorScope,
  CollectPolicy,
  HostPaths,
} from './framework/collector.types';
export { CollectorRegistry } from './framework/collector-registry';
export { runCollectors, DEFAULT_HOST_PATHS } from './framework/run-collectors';
export type {
  CollectEvent,
  CollectorResult,
  CollectorsSummary,
  RunCollectorsOptions,
} from './framework/run-collectors';
export { createReferenceResolver, hasReferences } from './framework/references';
export type { Reference, ReferenceResolver, ReferenceResolverOptions } from './framework/references';
export { AddressGuard } from './framework/net-guard';
export { createDefaultRegistry } from './default-registry';
export { collectToBundle } from './collect-to-bundle';
export type { BundleLimitsReport, CollectToBundleOptions, CollectToBundleResult } from './collect-to-bundle';
export {
  KUBERNETES_COLLECTORS,
  NO_CLUSTER_MESSAGE,
  NoClusterError,
  isKubernetesSpecRef,
  loadClusterConfig,
  parseKubernetesSpecRef,
  resolveKubernetesSpecRef,
  SUPPORT_BUNDLE_SPEC_KEY,
} from './kubernetes';
export type { KubernetesSpecRef, ResolveSpecRefOptions } from './kubernetes';
