import { forEachBounded } from '@cronbundle/core';
import { defineCollector, type CollectorContext } from '../framework/collector.types';
import { normalizeList, normalizeObject, type KubeClient, type KubeList, type KubeObject } from './kube-client';
import { errorText, kubeClientFor } from './kube-context';
import type { ClusterResourcesSpec } from './kubernetes-schemas';

const DIR = 'cluster-resources';
/** Requests in flight at once against the API server. */
const CONCURRENCY = 4;

/** A namespaced kind troubleshoot writes as `cluster-resources/<dir>/<namespace>.json`. */
interface NamespacedKind {
  dir: string;
  list(client: KubeClient, namespace: string): Promise<KubeList>;
  /** Reduce each item before it is written (configmaps keep metadata only). */
  shape?: (item: KubeObject) => KubeObject;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * ConfigMaps are listed for their metadata only: their data (and the last-applied annotation, which
 * repeats it) may hold credentials, and the `configMap` collector exists for reading values on purpose.
 */
function configMapMetadata(item: KubeObject): KubeObject {
  const metadata = { ...(item.metadata ?? {}) };
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _drop, ...rest } = annotations;
    metadata.annotations = rest;
  }
  return { kind: item.kind, apiVersion: item.apiVersion, metadata };
}

const NAMESPACED_KINDS: NamespacedKind[] = [
  { dir: 'pods', list: (c, ns) => c.listPods(ns) },
  { dir: 'services', list: (c, ns) => c.listServices(ns) },
  { dir: 'deployments', list: (c, ns) => c.listDeployments(ns) },
  { dir: 'statefulsets', list: (c, ns) => c.listStatefulSets(ns) },
  { dir: 'events', list: (c, ns) => c.listEvents(ns) },
  { dir: 'configmaps', list: (c, ns) => c.listConfigMaps(ns), shape: configMapMetadata },
];

/**
 * troubleshoot's clusterResources subset: `namespaces.json`, `nodes.json` and per-namespace
 * `<kind>/<namespace>.json` lists, each failure recorded beside the output in `<kind>-errors.json`
 * (an object keyed by namespace, or an array for cluster-scoped lists). Partial failures (RBAC that
 * forbids nodes, say) are data, as in troubleshoot; the collector fails only when every request did.
 */
export const clusterResourcesCollector = defineCollector<ClusterResourcesSpec>({
  type: 'clusterResources',
  scope: 'cluster',
  defaultTitle: 'cluster-resources',
  async collect(ctx) {
    const client = await kubeClientFor(ctx);
    const tally = { requests: 0, failures: [] as string[] };
    const attempt: Attempt = async (what, call) => {
      tally.requests++;
      try {
        return { ok: true, value: await call() };
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const error = errorText(err);
        tally.failures.push(`${what}: ${error}`);
        ctx.log('warn', `${what}: ${error}`);
        return { ok: false, error };
      }
    };

    const namespaces = await collectNamespaces(ctx, client, attempt);

    const tasks: (() => Promise<void>)[] = [];
    const errorsByKind = new Map<string, Record<string, string>>();
    for (const kind of NAMESPACED_KINDS) {
      errorsByKind.set(kind.dir, {});
      for (const namespace of namespaces) {
        tasks.push(async () => {
          const result = await attempt(`${kind.dir} in ${namespace}`, () => kind.list(client, namespace));
          if (!result.ok) {
            errorsByKind.get(kind.dir)![namespace] = result.error;
            return;
          }
          const list = normalizeList(result.value);
          if (kind.shape) list.items = list.items.map(kind.shape);
          await ctx.output.addJson(`${DIR}/${kind.dir}/${namespace}.json`, list);
        });
      }
    }
    tasks.push(async () => {
      const nodes = await attempt('nodes', () => client.listNodes());
      if (!nodes.ok) await ctx.output.addJson(`${DIR}/nodes-errors.json`, [nodes.error]);
      else await ctx.output.addJson(`${DIR}/nodes.json`, normalizeList(nodes.value));
    });
    await forEachBounded(tasks, CONCURRENCY, (task) => task());

    for (const [dir, errors] of errorsByKind) {
      if (Object.keys(errors).length > 0) await ctx.output.addJson(`${DIR}/${dir}-errors.json`, errors);
    }
    if (tally.requests > 0 && tally.failures.length === tally.requests)
      throw new Error(`every Kubernetes API request failed; first: ${tally.failures[0]}`);
  },
});

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };
type Attempt = <T>(what: string, call: () => Promise<T>) => Promise<Outcome<T>>;

/**
 * All namespaces (a NamespaceList), or with `namespaces:` each one read by name (an array, as
 * troubleshoot writes it); returns the names to collect from.
 */
async function collectNamespaces(
  ctx: CollectorContext<ClusterResourcesSpec>,
  client: KubeClient,
  attempt: Attempt,
): Promise<string[]> {
  const wanted = [...new Set(ctx.spec.namespaces ?? [])];
  if (wanted.length > 0) {
    const found: KubeObject[] = [];
    const errors: string[] = [];
    for (const name of wanted) {
      const ns = await attempt(`namespace ${name}`, () => client.readNamespace(name));
      if (!ns.ok) errors.push(ns.error);
      else found.push(normalizeObject(ns.value, 'Namespace', 'v1'));
    }
    await ctx.output.addJson(`${DIR}/namespaces.json`, found);
    if (errors.length > 0) await ctx.output.addJson(`${DIR}/namespaces-errors.json`, errors);
    return wanted;
  }
  const list = await attempt('namespaces', () => client.listNamespaces());
  if (!list.ok) {
    await ctx.output.addJson(`${DIR}/namespaces-errors.json`, [list.error]);
    return [];
  }
  const normalized = normalizeList(list.value);
  await ctx.output.addJson(`${DIR}/namespaces.json`, normalized);
  return normalized.items.map((ns) => ns.metadata?.name).filter((n): n is string => typeof n === 'string' && n !== '');
}
