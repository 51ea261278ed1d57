import { defineCollector } from '../framework/collector.types';
import type { DatabaseSpec } from '../spec/collector-schemas';

/**
 * Longest wait for a connection: an unreachable database is a result (`isConnected: false`) worth
 * recording quickly, whatever the collector's own (job-long) deadline.
 */
export const CONNECT_TIMEOUT_MS = 30_000;

/** What troubleshoot writes for a database collector (`<type>/<name>.json`). */
export interface DatabaseResult {
  isConnected: boolean;
  error?: string;
  version?: string;
  /** mysql only: the `parameters` asked for, by name. */
  variables?: Record<string, string>;
}

/** TLS options for node's tls from troubleshoot's `tls` block (PEM text in cacert/clientCert/clientKey). */
export function tlsOptions(
  tls: DatabaseSpec['tls'],
): { rejectUnauthorized: boolean; ca?: string; cert?: string; key?: string } | undefined {
  if (!tls) return undefined;
  if (tls.secret)
    throw new Error(
      'tls.secret (certificates from a Kubernetes secret) is not supported; give cacert/clientCert/clientKey',
    );
  return {
    rejectUnauthorized: tls.skipVerify !== true,
    ...(tls.cacert ? { ca: tls.cacert } : {}),
    ...(tls.clientCert ? { cert: tls.clientCert } : {}),
    ...(tls.clientKey ? { key: tls.clientKey } : {}),
  };
}

/** `15.18 (Debian 15.18-0+deb12u1)` → `15.18`; `10.11.19-MariaDB-0+deb12u1` → `10.11.19`. */
export function leadingVersion(text: string): string {
  return /^\s*(\d+(?:\.\d+)*)/.exec(text)?.[1] ?? text.trim();
}

export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0)
    return err.errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

/** Resolves when `signal` aborts, so a hung connect can be cut; the caller closes the client. */
export function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/**
 * A troubleshoot database collector (`postgres`, `mysql`, `redis`): run `probe` within the
 * collector's deadline, scrub its error, write `<type>/<collectorName|type>.json`. A failed
 * connection is a result (`isConnected: false`), not a collector error.
 */
export function databaseCollector(
  type: 'postgres' | 'mysql' | 'redis',
  probe: (spec: DatabaseSpec, timeoutMs: number, signal: AbortSignal) => Promise<DatabaseResult>,
) {
  return defineCollector<DatabaseSpec>({
    type,
    scope: 'cluster',
    defaultTitle: type,
    async collect(ctx) {
      const result = await probe(ctx.spec, ctx.limits.timeoutMs, ctx.signal);
      if (result.error !== undefined) result.error = ctx.scrub(result.error);
      await ctx.output.addJson(`${type}/${ctx.rawSpec.collectorName || type}.json`, result);
    },
  });
}
