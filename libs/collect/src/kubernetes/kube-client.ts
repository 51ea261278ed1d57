import type { Writable } from 'node:stream';
import type {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  ObservableMiddleware,
  RequestContext,
  VersionApi,
} from '@kubernetes/client-node';
import { kubeLib } from './kube-lib';
import { contextNamespace } from './kube-config';

/** A Kubernetes object or list as the API server sent it (wire field names, unknown fields kept). */
export type KubeObject = Record<string, unknown> & {
  kind?: string;
  apiVersion?: string;
  metadata?: Record<string, unknown> & { name?: string; namespace?: string; labels?: Record<string, string> };
};
export type KubeList = KubeObject & { items: KubeObject[] };

/** A failed API call: the HTTP status and the server's own message (a Status object's `message`). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface LogOptions {
  container: string;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339 (`2026-01-02T03:04:05Z`). */
  sinceTime?: string;
  limitBytes?: number;
  previous?: boolean;
  timestamps?: boolean;
}

type ApiOptions = Parameters<CoreV1Api['listNode']>[1];

/**
 * The Kubernetes API as the collectors use it, over @kubernetes/client-node's generated clients.
 * Responses are returned as the raw JSON the server sent (captured by a middleware before the
 * client's model classes would rename or drop fields), so bundle files look like `kubectl get -o json`.
 */
export class KubeClient {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly version: VersionApi;

  constructor(
    readonly config: KubeConfig,
    private readonly signal?: AbortSignal,
  ) {
    // The config came from loadClusterConfig, which loaded the library.
    const { AppsV1Api, CoreV1Api, VersionApi } = kubeLib();
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.version = config.makeApiClient(VersionApi);
  }

  /** Namespace of the current kubeconfig context (kubectl's default), else `default`. */
  get defaultNamespace(): string {
    return contextNamespace(this.config);
  }

  serverVersion(): Promise<KubeObject> {
    return this.raw((o) => this.version.getCode(undefined, o));
  }

  listNamespaces(): Promise<KubeList> {
    return this.raw((o) => this.core.listNamespace({}, o));
  }

  readNamespace(name: string): Promise<KubeObject> {
    return this.raw((o) => this.core.readNamespace({ name }, o));
  }

  listNodes(): Promise<KubeList> {
    return this.raw((o) => this.core.listNode({}, o));
  }

  listPods(namespace: string | undefined, labelSelector?: string): Promise<KubeList> {
    const selector = labelSelector ? { labelSelector } : {};
    return namespace
      ? this.raw((o) => this.core.listNamespacedPod({ namespace, ...selector }, o))
      : this.raw((o) => this.core.listPodForAllNamespaces(selector, o));
  }

  listServices(namespace: string): Promise<KubeList> {
    return this.raw((o) => this.core.listNamespacedService({ namespace }, o));
  }

  listEvents(namespace: string): Promise<KubeList> {
    return this.raw((o) => this.core.listNamespacedEvent({ namespace }, o));
  }

  listConfigMaps(namespace: string, labelSelector?: string): Promise<KubeList> {
    return this.raw((o) =>
      this.core.listNamespacedConfigMap({ namespace, ...(labelSelector ? { labelSelector } : {}) }, o),
    );
  }

  readConfigMap(namespace: string, name: string): Promise<KubeObject> {
    return this.raw((o) => this.core.readNamespacedConfigMap({ namespace, name }, o));
  }

  listSecrets(namespace: string, labelSelector?: string): Promise<KubeList> {
    return this.raw((o) =>
      this.core.listNamespacedSecret({ namespace, ...(labelSelector ? { labelSelector } : {}) }, o),
    );
  }

  readSecret(namespace: string, name: string): Promise<KubeObject> {
    return this.raw((o) => this.core.readNamespacedSecret({ namespace, name }, o));
  }

  listDeployments(namespace: string): Promise<KubeList> {
    return this.raw((o) => this.apps.listNamespacedDeployment({ namespace }, o));
  }

  listStatefulSets(namespace: string): Promise<KubeList> {
    return this.raw((o) => this.apps.listNamespacedStatefulSet({ namespace }, o));
  }

  /**
   * Stream one container's log into `destination` (the client's Log helper pipes the response body);
   * resolves once the server answered 200, rejects with a KubeApiError otherwise.
   */
  async streamLog(namespace: string, pod: string, options: LogOptions, destination: Writable): Promise<void> {
    const { container, ...query } = options;
    let controller: AbortController | undefined;
    const abort = () => controller?.abort();
    const signal = this.signal;
    signal?.addEventListener('abort', abort, { once: true });
    try {
      controller = await new (kubeLib().Log)(this.config).log(namespace, pod, container, destination, query);
    } catch (err) {
      signal?.removeEventListener('abort', abort);
      throw toKubeError(err, undefined);
    }
    if (signal?.aborted) controller.abort();
    // The body keeps flowing after this returns: a stop (timeout, cancel) or a reader that goes away
    // early must close the HTTP request too, or the socket stays open behind a paused body.
    destination.once('close', () => {
      signal?.removeEventListener('abort', abort);
      if (!destination.writableFinished) controller?.abort();
    });
  }

  private async raw<T extends KubeObject>(call: (options: ApiOptions) => Promise<unknown>): Promise<T> {
    let body: string | undefined;
    const signal = this.signal;
    const { Observable, ResponseContext } = kubeLib();
    const capture: ObservableMiddleware = {
      pre(request) {
        if (signal) request.setSignal(signal);
        return new Observable<RequestContext>(Promise.resolve(request));
      },
      post(response) {
        const read = response.body.text().then((text) => {
          body = text;
          return new ResponseContext(response.httpStatusCode, response.headers, {
            text: async () => text,
            binary: async () => Buffer.from(text),
          });
        });
        return new Observable(read);
      },
    };
    const options: ApiOptions = { middleware: [capture], middlewareMergeStrategy: 'append' };
    try {
      await call(options);
    } catch (err) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      throw toKubeError(err, body);
    }
    if (body === undefined) throw new KubeApiError(0, 'the API server sent no body');
    return JSON.parse(body) as T;
  }
}

/** One line naming the HTTP status and the server's reason, never the response headers. */
export function toKubeError(err: unknown, body: string | undefined): Error {
  if (err instanceof KubeApiError) return err;
  if (err instanceof kubeLib().ApiException) {
    const code = Number(err.code);
    const text = body ?? (typeof err.body === 'string' ? err.body : undefined);
    let detail: string | undefined;
    if (text) {
      try {
        const status = JSON.parse(text) as { message?: unknown };
        if (typeof status.message === 'string' && status.message) detail = status.message;
      } catch {
        detail = text.slice(0, 200).trim() || undefined;
      }
    }
    if (!detail && err.body && typeof err.body === 'object') {
      const message = (err.body as { message?: unknown }).message;
      if (typeof message === 'string') detail = message;
    }
    return new KubeApiError(code, `${detail ?? httpReason(code)} (HTTP ${code})`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function httpReason(code: number): string {
  const reasons: Record<number, string> = {
    400: 'bad request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not found',
    500: 'internal server error',
    503: 'service unavailable',
  };
  return reasons[code] ?? 'request failed';
}

/** The items of a list with their kind/apiVersion filled in (the server leaves them out) and managedFields dropped. */
export function normalizeList(list: KubeList): KubeList {
  const itemKind = typeof list.kind === 'string' && list.kind.endsWith('List') ? list.kind.slice(0, -4) : undefined;
  return {
    ...list,
    items: (list.items ?? []).map((item) => normalizeObject(item, itemKind, list.apiVersion)),
  };
}

export function normalizeObject(item: KubeObject, kind?: string, apiVersion?: string): KubeObject {
  const out: KubeObject = { ...(kind ? { kind } : {}), ...(apiVersion ? { apiVersion } : {}), ...item };
  if (out.metadata && 'managedFields' in out.metadata) {
    const { managedFields: _drop, ...metadata } = out.metadata;
    out.metadata = metadata;
  }
  return out;
}
