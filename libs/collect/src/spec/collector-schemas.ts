import { z } from 'zod';
import { KUBERNETES_COLLECTOR_SCHEMAS } from '../kubernetes/kubernetes-schemas';
import { parseGoDuration } from './duration';

/**
 * Bodies of troubleshoot collector entries. Objects are strict: a field troubleshoot does not
 * define (a typo such as `prot:` for `port:`) is an error naming its path, because troubleshoot
 * would silently ignore it and the collector would run with a default the user did not mean.
 * Every field of troubleshoot's v1beta2 types is accepted (pkg/apis/troubleshoot/v1beta2), also
 * for collector types cronbundle records as skipped, so specs written for troubleshoot load.
 */
const duration = z.string().refine((v) => parseGoDuration(v) !== undefined, {
  message: 'must be a Go duration such as "5s", "1m30s" or "500ms"',
});

export const collectorMeta = {
  collectorName: z.string().optional(),
  exclude: z.union([z.boolean(), z.string()]).optional(),
};

/** A collector body: troubleshoot's meta fields plus `shape`, nothing else. */
const entry = <S extends z.ZodRawShape>(shape: S) => z.strictObject({ ...collectorMeta, ...shape });

const base = entry({});
const strings = z.array(z.string());
const port = z.number().int().min(1).max(65535);

const tlsParams = z.strictObject({
  skipVerify: z.boolean().optional(),
  secret: z.strictObject({ name: z.string(), namespace: z.string() }).optional(),
  cacert: z.string().optional(),
  clientCert: z.string().optional(),
  clientKey: z.string().optional(),
});

const httpRequest = z.strictObject({
  url: z.string().min(1),
  insecureSkipVerify: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  timeout: duration.optional(),
  tls: tlsParams.optional(),
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

export const hostHttpSchema = entry(httpBody).refine(exactlyOneMethod, methodMessage);

/** troubleshoot's `Database` type, shared by postgres, mysql, mssql and redis. */
export const databaseSchema = entry({
  uri: z.string().min(1),
  parameters: strings.optional(),
  tls: tlsParams.optional(),
});

const imagePullSecret = z.strictObject({
  name: z.string().optional(),
  data: z.record(z.string(), z.string()).optional(),
  type: z.string().optional(),
});
/** Kubernetes objects troubleshoot passes through (a PodSpec): their own schema is Kubernetes'. */
const kubeObject = z.record(z.string(), z.unknown());

export const HOST_COLLECTOR_SCHEMAS = {
  cpu: base,
  memory: base,
  time: base,
  hostOS: base,
  ipv4Interfaces: base,
  hostServices: base,
  kernelModules: base,
  sysctl: base,
  blockDevices: entry({
    includeUnmountedPartitions: z.boolean().optional(),
    minimumAcceptableSize: z.number().int().nonnegative().optional(),
  }),
  diskUsage: entry({ path: z.string().min(1) }),
  tcpPortStatus: entry({ port, interface: z.string().optional() }),
  tcpConnect: entry({ address: z.string().min(1), timeout: duration.optional() }),
  http: hostHttpSchema,
  run: entry({
    command: z.string().min(1),
    args: strings.optional(),
    env: z.array(z.string().regex(/^[^=]+=/, 'must be NAME=value')).optional(),
    inheritEnvs: strings.optional(),
    ignoreParentEnvs: z.boolean().optional(),
    timeout: duration.optional(),
    outputDir: z.string().optional(),
    input: z.record(z.string(), z.string()).optional(),
  }),
  copy: entry({ path: z.string().min(1) }),
  certificate: entry({ certificatePath: z.string().min(1), keyPath: z.string().min(1) }),
  // Known to troubleshoot, accepted so specs load; recorded as skipped until implemented. Their
  // fields are all optional (nothing reads them yet) but unknown ones are still errors.
  journald: entry({
    system: z.boolean().optional(),
    dmesg: z.boolean().optional(),
    units: strings.optional(),
    since: z.string().optional(),
    until: z.string().optional(),
    output: z.string().optional(),
    lines: z.number().int().optional(),
    reverse: z.boolean().optional(),
    utc: z.boolean().optional(),
    timeout: duration.optional(),
  }),
  certificatesCollection: entry({ paths: strings.optional() }),
  udpPortStatus: entry({ port: port.optional(), interface: z.string().optional() }),
  tcpLoadBalancer: entry({ address: z.string().optional(), port: port.optional(), timeout: duration.optional() }),
  httpLoadBalancer: entry({
    address: z.string().optional(),
    port: port.optional(),
    path: z.string().optional(),
    timeout: duration.optional(),
  }),
  subnetAvailable: entry({ CIDRRangeAlloc: z.string().optional(), desiredCIDR: z.number().int().optional() }),
  // Field names not confirmed in troubleshoot's source: the one body left loose.
  subnetContainsIP: z.looseObject(collectorMeta),
  filesystemPerformance: entry({
    operationSize: z.number().int().nonnegative().optional(),
    directory: z.string().optional(),
    fileSize: z.string().optional(),
    sync: z.boolean().optional(),
    datasync: z.boolean().optional(),
    runTime: z.string().optional(),
    timeout: duration.optional(),
    enableBackgroundIOPS: z.boolean().optional(),
    backgroundIOPSWarmupSeconds: z.number().int().optional(),
    backgroundWriteIOPS: z.number().int().optional(),
    backgroundReadIOPS: z.number().int().optional(),
    backgroundWriteIOPSJobs: z.number().int().optional(),
    backgroundReadIOPSJobs: z.number().int().optional(),
  }),
  kernelConfigs: base,
  systemPackages: entry(
    Object.fromEntries(
      [
        'ubuntu',
        'ubuntu16',
        'ubuntu18',
        'ubuntu20',
        'rhel',
        'rhel7',
        'rhel8',
        'rhel9',
        'rocky',
        'rocky8',
        'rocky9',
        'centos',
        'centos7',
        'centos8',
        'centos9',
        'ol',
        'ol7',
        'ol8',
        'ol9',
        'amzn',
        'amzn2',
      ].map((distro) => [distro, strings.optional()]),
    ),
  ),
  cgroups: entry({ mountPoint: z.string().optional() }),
  dns: entry({ hostnames: strings.optional() }),
  networkNamespaceConnectivity: entry({
    fromCIDR: z.string().optional(),
    toCIDR: z.string().optional(),
    timeout: duration.optional(),
    port: port.optional(),
  }),
  kubernetes: base,
} as const;

const named = { name: z.string().optional() };
const inNamespace = { namespace: z.string().optional() };
const podImage = {
  image: z.string().optional(),
  imagePullPolicy: z.string().optional(),
  imagePullSecret: imagePullSecret.optional(),
  timeout: duration.optional(),
};

export const CLUSTER_COLLECTOR_SCHEMAS = {
  data: entry({ ...named, data: z.string() }),
  http: entry({ ...named, ...httpBody }).refine(exactlyOneMethod, methodMessage),
  postgres: databaseSchema,
  mysql: databaseSchema,
  mssql: databaseSchema,
  redis: databaseSchema,
  // clusterInfo, clusterResources, secret, configMap, logs
  ...KUBERNETES_COLLECTOR_SCHEMAS,
  run: entry({
    ...named,
    ...inNamespace,
    ...podImage,
    command: strings.optional(),
    args: strings.optional(),
    serviceAccountName: z.string().optional(),
  }),
  runPod: entry({
    ...named,
    ...inNamespace,
    timeout: duration.optional(),
    imagePullSecret: imagePullSecret.optional(),
    podSpec: kubeObject.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    allowImagePullRetries: z.boolean().optional(),
  }),
  runDaemonSet: entry({
    ...named,
    ...inNamespace,
    timeout: duration.optional(),
    imagePullSecret: imagePullSecret.optional(),
    podSpec: kubeObject.optional(),
  }),
  exec: entry({
    ...named,
    ...inNamespace,
    selector: strings.optional(),
    containerName: z.string().optional(),
    command: strings.optional(),
    args: strings.optional(),
    timeout: duration.optional(),
  }),
  copy: entry({
    ...named,
    ...inNamespace,
    selector: strings.optional(),
    containerPath: z.string().optional(),
    containerName: z.string().optional(),
    extractArchive: z.boolean().optional(),
  }),
  copyFromHost: entry({
    ...named,
    ...inNamespace,
    ...podImage,
    hostPath: z.string().optional(),
    extractArchive: z.boolean().optional(),
  }),
  collectd: entry({ ...inNamespace, ...podImage, hostPath: z.string().optional() }),
  ceph: entry({ ...inNamespace, timeout: duration.optional() }),
  longhorn: entry({ ...inNamespace, timeout: duration.optional() }),
  registryImages: entry({ ...inNamespace, images: strings.optional(), imagePullSecret: imagePullSecret.optional() }),
  sysctl: entry({ ...named, ...inNamespace, ...podImage }),
  certificates: entry({
    secrets: z.array(z.strictObject({ name: z.string().optional(), namespaces: strings.optional() })).optional(),
    configMaps: z.array(z.strictObject({ name: z.string().optional(), namespaces: strings.optional() })).optional(),
  }),
  helm: entry({ ...inNamespace, releaseName: z.string().optional(), collectValues: z.boolean().optional() }),
  goldpinger: entry({
    ...inNamespace,
    image: z.string().optional(),
    serviceAccountName: z.string().optional(),
    collectDelay: z.string().optional(),
    podLaunchOptions: z
      .strictObject({
        ...inNamespace,
        image: z.string().optional(),
        imagePullSecret: imagePullSecret.optional(),
        serviceAccountName: z.string().optional(),
      })
      .optional(),
  }),
  sonobuoy: entry({ ...inNamespace }),
  dns: entry({ timeout: duration.optional(), image: z.string().optional(), nonResolvable: z.string().optional() }),
  etcd: entry({ image: z.string().optional() }),
  nodeMetrics: entry({ nodeNames: strings.optional(), selector: strings.optional() }),
  customMetrics: entry({
    metricRequests: z
      .array(
        z.strictObject({
          namespace: z.string().optional(),
          objectName: z.string().optional(),
          resourceMetricName: z.string().optional(),
        }),
      )
      .optional(),
  }),
  supportBundleMetadata: entry({ ...inNamespace }),
  s3Status: entry({
    bucketName: z.string().optional(),
    region: z.string().optional(),
    endpoint: z.string().optional(),
    accessKeyID: z.string().optional(),
    secretAccessKey: z.string().optional(),
    usePathStyle: z.boolean().optional(),
    insecure: z.boolean().optional(),
  }),
} as const;

export type HostCollectorType = keyof typeof HOST_COLLECTOR_SCHEMAS;
export type ClusterCollectorType = keyof typeof CLUSTER_COLLECTOR_SCHEMAS;
export type HostCollectorSpec<T extends HostCollectorType> = z.infer<(typeof HOST_COLLECTOR_SCHEMAS)[T]>;
export type ClusterCollectorSpec<T extends ClusterCollectorType> = z.infer<(typeof CLUSTER_COLLECTOR_SCHEMAS)[T]>;
export type HttpRequestSpec = z.infer<typeof httpRequest>;
export type DatabaseSpec = z.infer<typeof databaseSchema>;

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
