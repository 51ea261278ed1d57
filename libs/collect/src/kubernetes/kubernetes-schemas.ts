import { z } from 'zod';
import { parseGoDuration } from '../spec/duration';

/**
 * Bodies of the Kubernetes collectors, field for field troubleshoot's v1beta2 types
 * (pkg/apis/troubleshoot/v1beta2/collector_shared.go). Strict: a field troubleshoot does not define
 * is an error at its own path (the spec parser reports `….logs.limits.maxLine: unknown field`).
 * The meta fields are repeated here rather than imported, because collector-schemas.ts imports this file.
 */
const meta = {
  collectorName: z.string().optional(),
  exclude: z.union([z.boolean(), z.string()]).optional(),
};

// Kubernetes' own rules (DNS-1123); they also keep bundle paths built from these names inside their folder.
const namespaceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name (lower-case letters, digits, -)');
const objectName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name (lower-case letters, digits, -, .)');
const dataKey = z.string().regex(/^[-._a-zA-Z0-9]+$/, 'must be a ConfigMap/Secret key (letters, digits, -, _, .)');
const labelSelector = z.array(z.string().min(1, 'must not be empty'));

const lookup = {
  ...meta,
  name: objectName.optional(),
  namespace: namespaceName.optional(),
  selector: labelSelector.optional(),
  key: dataKey.optional(),
  includeValue: z.boolean().optional(),
  includeAllData: z.boolean().optional(),
};
const nameOrSelector = (body: { name?: string | undefined; selector?: string[] | undefined }) =>
  body.name !== undefined || (body.selector !== undefined && body.selector.length > 0);
const nameOrSelectorMessage = { message: 'either name or selector is required' };

export const clusterInfoSchema = z.strictObject(meta);

export const clusterResourcesSchema = z.strictObject({
  ...meta,
  namespaces: z.array(namespaceName).optional(),
  ignoreRBAC: z.boolean().optional(),
});

export const secretSchema = z.strictObject(lookup).refine(nameOrSelector, nameOrSelectorMessage);
export const configMapSchema = z.strictObject(lookup).refine(nameOrSelector, nameOrSelectorMessage);

const positiveInt = z.number().int().positive();

export const logsSchema = z.strictObject({
  ...meta,
  name: z.string().optional(),
  namespace: namespaceName.optional(),
  selector: labelSelector.optional(),
  containerNames: z.array(namespaceName).optional(),
  limits: z
    .strictObject({
      maxAge: z
        .string()
        .refine((v) => (parseGoDuration(v) ?? 0) > 0, { message: 'must be a Go duration such as "24h" or "30m"' })
        .optional(),
      maxLines: positiveInt.optional(),
      maxBytes: positiveInt.optional(),
      sinceTime: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time' }).optional(),
    })
    .optional(),
  timestamps: z.boolean().optional(),
});

/** Merged into CLUSTER_COLLECTOR_SCHEMAS (spec/collector-schemas.ts). */
export const KUBERNETES_COLLECTOR_SCHEMAS = {
  clusterInfo: clusterInfoSchema,
  clusterResources: clusterResourcesSchema,
  secret: secretSchema,
  configMap: configMapSchema,
  logs: logsSchema,
} as const;

export type ClusterInfoSpec = z.infer<typeof clusterInfoSchema>;
export type ClusterResourcesSpec = z.infer<typeof clusterResourcesSchema>;
export type SecretSpec = z.infer<typeof secretSchema>;
export type ConfigMapSpec = z.infer<typeof configMapSchema>;
export type LogsSpec = z.infer<typeof logsSchema>;
