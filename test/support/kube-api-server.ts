import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { withDeadline } from './wait';

export interface KubeApiRequest {
  method: string;
  /** Path and query as sent (`/api/v1/namespaces/app/pods?labelSelector=app%3Dweb`). */
  url: string;
  pathname: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  receivedAt: number;
}

export interface KubeApiReply {
  status: number;
  /** An object is sent as JSON; a string as is. Default: a Kubernetes Status for the code. */
  body?: unknown;
  contentType?: string;
}

export interface KubeconfigOptions {
  /** Namespace of the context (kubectl's default namespace). */
  namespace?: string;
  /** Bearer token the client sends (default `cronbundle-test-token`). */
  token?: string;
  /** Directory for the file (default: a new temp dir). */
  dir?: string;
}

const DEFAULT_FIXTURES = join(__dirname, '..', 'fixtures', 'kube');
export const KUBE_TEST_TOKEN = 'cronbundle-test-token';

/**
 * A real HTTP server answering Kubernetes API paths from recorded JSON responses in
 * `test/fixtures/kube/<path>.json`, the way the API server would: label selectors filter list items,
 * `/api/v1/<resource>` without a namespace gathers every namespace's list, pod logs come from
 * `…/pods/<pod>/log/<container>[-previous].log` with `tailLines`/`limitBytes` applied, and an unknown
 * path is a 404 Status. Every request is recorded; `respond()` overrides a path (403, 500, …).
 */
export class KubeApiServer {
  readonly requests: KubeApiRequest[] = [];
  private readonly overrides = new Map<string, KubeApiReply>();
  private readonly stalls = new Map<string, string>();
  private stallClosed: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly fixturesDir: string,
  ) {}

  static async start(options: { fixturesDir?: string } = {}): Promise<KubeApiServer> {
    const server = createServer();
    const api = new KubeApiServer(server, options.fixturesDir ?? DEFAULT_FIXTURES);
    server.on('request', (req, res) => {
      api.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) api.send(res, { status: 500, body: status(500, 'InternalError', String(err)) });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answer `pathname` (no query) with `reply` instead of the fixture until `reset()`. */
  respond(pathname: string, reply: KubeApiReply): void {
    this.overrides.set(pathname, reply);
  }

  /**
   * Answer `pathname` with 200 and `firstChunk`, then send nothing more and never end: a log that
   * stalls. `stalledConnectionClosed()` resolves when the client gives up on it.
   */
  stall(pathname: string, firstChunk = ''): void {
    this.stalls.set(pathname, firstChunk);
  }

  /** Resolves when a stalled response's connection is closed by the client (within `timeoutMs`). */
  stalledConnectionClosed(timeoutMs = 10_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.stallClosed.push(resolve));
    return withDeadline(closed, timeoutMs, 'the client to close a stalled Kubernetes API response');
  }

  reset(): void {
    this.overrides.clear();
    this.stalls.clear();
    this.requests.length = 0;
  }

  /** Requests whose path starts with `prefix`. */
  requestsTo(prefix: string): KubeApiRequest[] {
    return this.requests.filter((r) => r.pathname.startsWith(prefix));
  }

  /** A kubeconfig file whose current context points at this server with a bearer token. */
  async writeKubeconfig(options: KubeconfigOptions = {}): Promise<string> {
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'cronbundle-kube-')));
    const file = join(dir, 'kubeconfig');
    const yaml = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: recorded',
      '    cluster:',
      `      server: ${this.url}`,
      // The client refuses plain http unless TLS verification is off; the server is local and plain.
      '      insecure-skip-tls-verify: true',
      'users:',
      '  - name: tester',
      '    user:',
      `      token: ${options.token ?? KUBE_TEST_TOKEN}`,
      'contexts:',
      '  - name: recorded',
      '    context:',
      '      cluster: recorded',
      '      user: tester',
      ...(options.namespace ? [`      namespace: ${options.namespace}`] : []),
      'current-context: recorded',
      '',
    ].join('\n');
    await writeFile(file, yaml, { mode: 0o600 });
    return file;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for await (const _chunk of req) {
      // drain: the API is read-only here
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = posix.normalize(decodeURIComponent(url.pathname));
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      pathname,
      query,
      headers: req.headers,
      receivedAt: Date.now(),
    });
    const override = this.overrides.get(pathname);
    if (override) return this.send(res, override);
    const stall = this.stalls.get(pathname);
    if (stall !== undefined) {
      res.on('close', () => {
        const waiters = this.stallClosed;
        this.stallClosed = [];
        for (const resolve of waiters) resolve();
      });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(stall);
      return;
    }
    if (req.method !== 'GET')
      return this.send(res, { status: 405, body: status(405, 'MethodNotAllowed', 'read-only') });
    if (pathname.includes('..')) return this.send(res, notFound());

    const log = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/log$/.exec(pathname);
    if (log) return this.send(res, await this.podLog(pathname, query));

    const fixture = await this.readJson(`${pathname}.json`);
    if (fixture !== undefined) return this.send(res, { status: 200, body: filterList(fixture, query.labelSelector) });

    const allNamespaces = /^\/api\/v1\/([a-z]+)$/.exec(pathname);
    if (allNamespaces) {
      const merged = await this.acrossNamespaces(allNamespaces[1]!);
      if (merged) return this.send(res, { status: 200, body: filterList(merged, query.labelSelector) });
    }
    return this.send(res, notFound());
  }

  private async podLog(pathname: string, query: Record<string, string>): Promise<KubeApiReply> {
    const container = query.container ?? '';
    const previous = query.previous === 'true';
    const pod = pathname.split('/')[6];
    const text = await this.readText(`${pathname}/${container}${previous ? '-previous' : ''}.log`);
    if (text === undefined) {
      return previous
        ? {
            status: 400,
            body: status(400, 'BadRequest', `previous terminated container "${container}" in pod "${pod}" not found`),
          }
        : { status: 404, body: status(404, 'NotFound', `container "${container}" in pod "${pod}" not found`) };
    }
    let out = text;
    if (query.tailLines) {
      const lines = out.split('\n');
      if (lines.at(-1) === '') lines.pop();
      out = lines
        .slice(-Number(query.tailLines))
        .map((l) => `${l}\n`)
        .join('');
    }
    if (query.limitBytes) out = Buffer.from(out).subarray(0, Number(query.limitBytes)).toString('utf8');
    return { status: 200, body: out, contentType: 'text/plain' };
  }

  private async acrossNamespaces(resource: string): Promise<Record<string, unknown> | undefined> {
    const root = join(this.fixturesDir, 'api', 'v1', 'namespaces');
    const names = await readdir(root, { withFileTypes: true }).catch(() => []);
    let merged: { kind?: unknown; apiVersion?: unknown; items: unknown[] } | undefined;
    for (const entry of names) {
      if (!entry.isDirectory()) continue;
      const list = (await this.readJson(`/api/v1/namespaces/${entry.name}/${resource}.json`)) as
        { kind?: unknown; apiVersion?: unknown; items?: unknown[] } | undefined;
      if (!list) continue;
      merged ??= { kind: list.kind, apiVersion: list.apiVersion, items: [] };
      merged.items.push(...(list.items ?? []));
    }
    return merged ? { ...merged, metadata: { resourceVersion: '1' } } : undefined;
  }

  private async readJson(path: string): Promise<unknown> {
    const text = await this.readText(path);
    return text === undefined ? undefined : JSON.parse(text);
  }

  private async readText(path: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.fixturesDir, path), 'utf8');
    } catch {
      return undefined;
    }
  }

  private send(res: ServerResponse, reply: KubeApiReply): void {
    const body = reply.body === undefined ? status(reply.status, '', '') : reply.body;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(reply.status, {
      'content-type': reply.contentType ?? (typeof body === 'string' ? 'text/plain' : 'application/json'),
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }
}

/** A Kubernetes `Status` object, as the API server sends with every error. */
export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function notFound(): KubeApiReply {
  return { status: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') };
}

/** Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`), comma-joined, as the API applies them. */
function filterList(value: unknown, selector: string | undefined): unknown {
  if (!selector || !value || typeof value !== 'object' || !Array.isArray((value as { items?: unknown }).items))
    return value;
  const terms = selector
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const matches = (labels: Record<string, string>) =>
    terms.every((term) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(term);
      if (ne) return labels[ne[1]!] !== ne[2];
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq) return labels[eq[1]!] === eq[2];
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });
  const list = value as { items: { metadata?: { labels?: Record<string, string> } }[] };
  return { ...list, items: list.items.filter((item) => matches(item.metadata?.labels ?? {})) };
}
