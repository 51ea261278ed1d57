import { z } from 'zod';
import { parseGoDuration } from './duration';

/**
 * Bodies of troubleshoot collector entries. Objects are loose (unknown fields kept) because
 * troubleshoot's own decoder ignores fields it does not know, and users bring specs written for
 * newer troubleshoot versions; the fields we act on are typed.
 */
const duration = z.string().refine((v) => parseGoDuration(v) !== undefined, {
  message: 'must be a Go duration such as "5s", "1m30s" or "500ms"',
});

export const collectorMeta = {
  collectorName: z.string().optional(),
  exclude: z.union([z.boolean(), z.string()]).optional(),
};

const base = z.looseObject(collectorMeta);

const httpRequest = z.looseObject({
  url: z.string().min(1),
  insecureSkipVerify: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  timeout: duration.optional(),
  proxy: z.string().optional(),
});

const httpBody = {
  get: httpRequest.optional(),
  post: httpRequest.optional(),
  put: httpRequest.optional(),
};

const exactlyOneMethod = (body: { get?: unknown; post?: unknown; put?: unknown }) =>
  [body.get, body.post, body.put].filter((m) => m !== undefined).length === 1;
const methodMessage = { message: 'exactly one of get, post or put is required' };

export const hostHttpSchema = z.looseObject({ ...collectorMeta, ...httpBody }).refine(exactlyOneMethod, methodMessage);

export const HOST_COLLECTOR_SCHEMAS = {
  cpu: base,
  memory: base,
  time: base,
  hostOS: base,
  ipv4Interfaces: base,
  hostServices: base,
  kernelModules: base,
  sysctl: base,
  blockDevices: z.looseObject({
    ...collectorMeta,
    includeUnmountedPartitions: z.boolean().optional(),
    minimumAcceptableSize: z.number().int().nonnegative().optional(),
  }),
  diskUsage: z.looseObject({ ...collectorMeta, path: z.string().min(1) }),
  tcpPortStatus: z.looseObject({
    ...collectorMeta,
    port: z.number().int().min(1).max(65535),
    interface: z.string().optional(),
  }),
  tcpConnect: z.looseObject({ ...collectorMeta, address: z.string().min(1), timeout: duration.optional() }),
  http: hostHttpSchema,
  run: z.looseObject({
    ...collectorMeta,
    command: z.string().min(1),
    args: z.array(z.string()).optional(),
    env: z.array(z.string().regex(/^[^=]+=/, 'must be NAME=value')).optional(),
    inheritEnvs: z.array(z.string()).optional(),
    ignoreParentEnvs: z.boolean().optional(),
    timeout: duration.optional(),
    outputDir: z.string().optional(),
    input: z.record(z.string(), z.string()).optional(),
  }),
  copy: z.looseObject({ ...collectorMeta, path: z.string().min(1) }),
  certificate: z.looseObject({ ...collectorMeta, certificatePath: z.string().min(1), keyPath: z.string().min(1) }),
  // Known to troubleshoot, accepted so specs load; recorded as skipped until implemented.
  journald: base,
  certificatesCollection: base,
  udpPortStatus: base,
  tcpLoadBalancer: base,
  httpLoadBalancer: base,
  subnetAvailable: base,
  subnetContainsIP: base,
  filesystemPerformance: base,
  kernelConfigs: base,
  systemPackages: base,
  cgroups: base,
  dns: base,
  networkNamespaceConnectivity: base,
} as const;

export const CLUSTER_COLLECTOR_SCHEMAS = {
  data: z.looseObject({ ...collectorMeta, name: z.string().optional(), data: z.string() }),
  http: z
    .looseObject({ ...collectorMeta, name: z.string().optional(), ...httpBody })
    .refine(exactlyOneMethod, methodMessage),
  // Accepted so specs load; the Kubernetes and database collectors slot in later.
  clusterInfo: base,
  clusterResources: base,
  secret: base,
  configMap: base,
  logs: base,
  run: base,
  runPod: base,
  runDaemonSet: base,
  exec: base,
  copy: base,
  copyFromHost: base,
  postgres: base,
  mysql: base,
  mssql: base,
  redis: base,
  collectd: base,
  ceph: base,
  longhorn: base,
  registryImages: base,
  sysctl: base,
  certificates: base,
  helm: base,
  goldpinger: base,
  sonobuoy: base,
  dns: base,
  etcd: base,
  nodeMetrics: base,
  customMetrics: base,
} as const;

export type HostCollectorType = keyof typeof HOST_COLLECTOR_SCHEMAS;
export type ClusterCollectorType = keyof typeof CLUSTER_COLLECTOR_SCHEMAS;
export type HostCollectorSpec<T extends HostCollectorType> = z.infer<(typeof HOST_COLLECTOR_SCHEMAS)[T]>;
export type ClusterCollectorSpec<T extends ClusterCollectorType> = z.infer<(typeof CLUSTER_COLLECTOR_SCHEMAS)[T]>;
export type HttpRequestSpec = z.infer<typeof httpRequest>;

/**
 * Analyzer types accepted in `analyzers` / `hostAnalyzers` (troubleshoot's names). Bodies are kept
 * as they are; libs/analyze interprets them.
 */
export const ANALYZER_TYPES: readonly string[] = [
  'textAnalyze',
  'jsonCompare',
  'yamlCompare',
  'cpu',
  'memory',
  'time',
  'hostOS',
  'ipv4Interfaces',
  'blockDevices',
  'diskUsage',
  'tcpPortStatus',
  'udpPortStatus',
  'tcpConnect',
  'tcpLoadBalancer',
  'httpLoadBalancer',
  'http',
  'certificate',
  'certificatesCollection',
  'hostServices',
  'kernelModules',
  'kernelConfigs',
  'journald',
  'sysctl',
  'systemPackages',
  'filesystemPerformance',
  'subnetAvailable',
  'subnetContainsIP',
  'run',
  'redis',
  'postgres',
  'mysql',
  'mssql',
  'clusterVersion',
  'storageClass',
  'customResourceDefinition',
  'deploymentStatus',
  'statefulsetStatus',
  'jobStatus',
  'replicasetStatus',
  'clusterPodStatuses',
  'clusterContainerStatuses',
  'containerRuntime',
  'distribution',
  'nodeResources',
  'cephStatus',
  'longhorn',
  'registryImages',
  'weaveReport',
  'goldpinger',
  'certificates',
  'velero',
  'nodeMetrics',
  'event',
  'ingress',
  'secret',
  'configMap',
  'imagePullSecret',
  'clusterResource',
];

export const analyzerBodySchema = z.record(z.string(), z.unknown());

export const redactorSchema = z.looseObject({
  name: z.string().optional(),
  fileSelector: z.looseObject({ file: z.string().optional(), files: z.array(z.string()).optional() }).optional(),
  removals: z
    .looseObject({
      values: z.array(z.string()).optional(),
      regex: z.array(z.looseObject({ selector: z.string().optional(), redactor: z.string().optional() })).optional(),
      yamlPath: z.array(z.string()).optional(),
    })
    .optional(),
});
export type RedactorSpec = z.infer<typeof redactorSchema>;

/** Collector types that run commands or read arbitrary files: only admins may save them. */
export const ADMIN_COLLECTOR_TYPES: ReadonlySet<string> = new Set([
  'run',
  'exec',
  'copy',
  'runPod',
  'runDaemonSet',
  'copyFromHost',
]);
