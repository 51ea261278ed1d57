import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { HttpRequestSpec } from '../spec/collector-schemas';
import { parseGoDuration } from '../spec/duration';
import type { AddressGuard } from './net-guard';

export type HttpOutcome =
  | { response: { status: number; body: string; headers: Record<string, string>; raw_json?: unknown } }
  | { error: { message: string } };

export interface HttpCallOptions {
  guard: AddressGuard;
  signal: AbortSignal;
  /** Used when the request has no `timeout` of its own. */
  defaultTimeoutMs: number;
  maxBodyBytes: number;
}

const MAX_REDIRECTS = 10;

/** `get`/`post`/`put` of a troubleshoot http collector → `{response}` or `{error}`, never a throw. */
export async function performHttp(
  spec: { get?: HttpRequestSpec; post?: HttpRequestSpec; put?: HttpRequestSpec },
  options: HttpCallOptions,
): Promise<HttpOutcome> {
  const [method, request] = spec.get
    ? (['GET', spec.get] as const)
    : spec.post
      ? (['POST', spec.post] as const)
      : (['PUT', spec.put!] as const);
  const timeoutMs = request.timeout ? parseGoDuration(request.timeout)! : options.defaultTimeoutMs;
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]);
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { error: { message: `invalid URL: ${request.url}` } };
  }
  let tls: HttpTlsOptions;
  try {
    tls = httpTlsOptions(request);
  } catch (err) {
    return { error: { message: err instanceof Error ? err.message : String(err) } };
  }
  let currentMethod: string = method;
  let body = method === 'GET' ? undefined : request.body;
  try {
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        return { error: { message: `unsupported URL scheme ${url.protocol}` } };
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host)) {
        const refusal = options.guard.refusal(host, host);
        if (refusal) return { error: { message: refusal } };
      }
      const res = await send(url, currentMethod, request, body, signal, options.guard, tls);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location && hop < MAX_REDIRECTS) {
        res.resume();
        url = new URL(location, url);
        if (status <= 303 && currentMethod !== 'GET' && currentMethod !== 'HEAD') {
          currentMethod = 'GET';
          body = undefined;
        }
        continue;
      }
      const text = await readBody(res, options.maxBodyBytes);
      const outcome: HttpOutcome = { response: { status, body: text, headers: canonicalHeaders(res.rawHeaders) } };
      try {
        outcome.response.raw_json = JSON.parse(text);
      } catch {
        // not JSON: troubleshoot leaves raw_json out
      }
      return outcome;
    }
  } catch (err) {
    const reason =
      signal.aborted && !options.signal.aborted
        ? `timeout after ${timeoutMs} ms`
        : err instanceof Error
          ? err.message
          : String(err);
    return { error: { message: `${currentMethod} "${url.toString()}": ${reason}` } };
  }
}

export interface HttpTlsOptions {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * troubleshoot's TLS fields of a request: `insecureSkipVerify` or `tls.skipVerify` turn verification
 * off; `tls.cacert` (PEM text) is the CA to trust instead of the system's; `tls.clientCert` +
 * `tls.clientKey` (PEM text) authenticate the client. `tls.secret` (a Kubernetes secret) is refused.
 */
export function httpTlsOptions(request: HttpRequestSpec): HttpTlsOptions {
  const tls = request.tls;
  if (tls?.secret)
    throw new Error(
      'tls.secret (certificates from a Kubernetes secret) is not supported; give cacert/clientCert/clientKey',
    );
  if (Boolean(tls?.clientCert) !== Boolean(tls?.clientKey))
    throw new Error('tls.clientCert and tls.clientKey must be given together');
  return {
    rejectUnauthorized: !(request.insecureSkipVerify || tls?.skipVerify),
    ...(tls?.cacert ? { ca: tls.cacert } : {}),
    ...(tls?.clientCert ? { cert: tls.clientCert } : {}),
    ...(tls?.clientKey ? { key: tls.clientKey } : {}),
  };
}

function send(
  url: URL,
  method: string,
  request: HttpRequestSpec,
  body: string | undefined,
  signal: AbortSignal,
  guard: AddressGuard,
  tls: HttpTlsOptions,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'User-Agent': 'cronbundle', ...request.headers };
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method,
      headers,
      signal,
      lookup: guard.lookup as unknown as http.RequestOptions['lookup'], // our lookup matches dns.lookup's callback contract
      ...tls,
      agent: false,
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(body);
  });
}

async function readBody(res: http.IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const buf = chunk as Buffer;
    const take = Math.min(buf.length, max - size);
    if (take > 0) chunks.push(take === buf.length ? buf : buf.subarray(0, take));
    size += take;
    if (size >= max) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Go's http.Header as troubleshoot writes it: canonical names, repeated values joined by ",". */
export function canonicalHeaders(raw: string[]): Record<string, string> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase().replace(
      /(^|-)([a-z])/g,
      (_m, dash: string, c: string) => dash + c.toUpperCase(),
    );
    (out[name] ??= []).push(raw[i + 1]!);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.join(',')]));
}
