import { defineCollector, type Collector, type CollectorContext } from '../framework/collector.types';
import { KubeApiError, type KubeClient, type KubeObject } from './kube-client';
import { errorText, kubeClientFor } from './kube-context';
import type { ConfigMapSpec, SecretSpec } from './kubernetes-schemas';

type LookupSpec = SecretSpec & ConfigMapSpec;

interface Flavour {
  type: 'secret' | 'configMap';
  defaultTitle: string;
  /** Output folder (`secrets`), error folder is `<dir>-errors`. */
  dir: string;
  /** `secretExists` / `configMapExists`. */
  existsField: string;
  read(client: KubeClient, namespace: string, name: string): Promise<KubeObject>;
  list(client: KubeClient, namespace: string, selector: string): Promise<{ items: KubeObject[] }>;
  /** The object's values as text (Secret `data` is base64). */
  values(object: KubeObject): Map<string, string>;
}

/**
 * troubleshoot's `secret` / `configMap` collectors: `<dir>/<ns>/<name>[/<key>].json` =
 * `{namespace, name, key, <kind>Exists, keyExists}`; the value only with `includeValue: true` (and
 * every key's with `includeAllData: true`). Values are written to the bundle file and nowhere else:
 * never to the collector's log lines or errors, and the bundle's redaction applies to that file.
 */
function lookupCollector(flavour: Flavour): Collector {
  return defineCollector<LookupSpec>({
    type: flavour.type,
    scope: 'cluster',
    defaultTitle: flavour.defaultTitle,
    async collect(ctx) {
      const client = await kubeClientFor(ctx);
      const spec = ctx.spec;
      const namespace = spec.namespace || client.defaultNamespace;
      const errorsFile = [
        `${flavour.dir}-errors`,
        namespace,
        spec.name ?? selectorPath(spec.selector ?? []),
        ...(spec.key ? [spec.key] : []),
      ].join('/');

      let objects: KubeObject[];
      try {
        if (spec.name !== undefined) {
          objects = [await flavour.read(client, namespace, spec.name)];
        } else {
          objects = (await flavour.list(client, namespace, (spec.selector ?? []).join(','))).items ?? [];
        }
      } catch (err) {
        await ctx.output.addJson(`${errorsFile}.json`, [errorText(err)]);
        // Not found is the answer to "does it exist", not a failure of the collector.
        if (err instanceof KubeApiError && err.status === 404 && spec.name !== undefined) {
          await write(ctx, flavour, namespace, spec.name, undefined);
          return;
        }
        throw err;
      }
      for (const object of objects) {
        const name = object.metadata?.name;
        if (typeof name === 'string' && name) await write(ctx, flavour, namespace, name, object);
      }
    },
  });
}

async function write(
  ctx: CollectorContext<LookupSpec>,
  flavour: Flavour,
  namespace: string,
  name: string,
  object: KubeObject | undefined,
): Promise<void> {
  const spec = ctx.spec;
  const key = spec.key ?? '';
  const values = object ? flavour.values(object) : new Map<string, string>();
  const out: Record<string, unknown> = {
    namespace,
    name,
    key,
    [flavour.existsField]: object !== undefined,
    keyExists: key !== '' && values.has(key),
  };
  if (spec.includeValue && key !== '' && values.has(key)) out.value = values.get(key);
  if (spec.includeAllData && object) out.data = Object.fromEntries(values);
  const path = [flavour.dir, namespace, name, ...(key ? [key] : [])].join('/');
  await ctx.output.addJson(`${path}.json`, out);
}

/** A label selector as one path segment (`app=web,tier!=db` → `app-web-tier-db`). Unverified against troubleshoot. */
function selectorPath(selector: string[]): string {
  return (
    selector
      .join('-')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'selector'
  );
}

function stringMap(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export const secretCollector = lookupCollector({
  type: 'secret',
  defaultTitle: 'secret',
  dir: 'secrets',
  existsField: 'secretExists',
  read: (client, namespace, name) => client.readSecret(namespace, name),
  list: (client, namespace, selector) => client.listSecrets(namespace, selector),
  values: (object) => {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(stringMap((object as { data?: unknown }).data)))
      out.set(k, Buffer.from(v, 'base64').toString('utf8'));
    for (const [k, v] of Object.entries(stringMap((object as { stringData?: unknown }).stringData))) out.set(k, v);
    return out;
  },
});

export const configMapCollector = lookupCollector({
  type: 'configMap',
  defaultTitle: 'configmap',
  dir: 'configmaps',
  existsField: 'configMapExists',
  read: (client, namespace, name) => client.readConfigMap(namespace, name),
  list: (client, namespace, selector) => client.listConfigMaps(namespace, selector),
  values: (object) => {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(stringMap((object as { data?: unknown }).data))) out.set(k, v);
    for (const [k, v] of Object.entries(stringMap((object as { binaryData?: unknown }).binaryData))) out.set(k, v);
    return out;
  },
});
