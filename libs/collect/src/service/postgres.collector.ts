// Types only: the driver loads on first use (docs/BENCHMARKS.md, memory).
import type { Client } from 'pg';
import type { DatabaseSpec } from '../spec/collector-schemas';
import {
  CONNECT_TIMEOUT_MS,
  databaseCollector,
  aborted,
  errorMessage,
  leadingVersion,
  tlsOptions,
  type DatabaseResult,
} from './database-common';

/**
 * troubleshoot's `postgres` collector: connect with `uri`, read the server version, write
 * `postgres/<collectorName|postgres>.json` = `{isConnected, error?, version?}`. A failed connection is
 * a result (`isConnected: false`), not a collector error.
 */
export const postgresCollector = databaseCollector('postgres', probePostgres);

export async function probePostgres(
  spec: DatabaseSpec,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<DatabaseResult> {
  let client: Client;
  try {
    if (!/^postgres(ql)?:\/\//i.test(spec.uri)) throw new Error('uri must start with postgres:// or postgresql://');
    const ssl = tlsOptions(spec.tls);
    const { Client } = await import('pg');
    client = new Client({
      connectionString: spec.uri,
      connectionTimeoutMillis: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
      query_timeout: timeoutMs,
      application_name: 'cronbundle',
      ...(ssl ? { ssl } : {}),
    });
  } catch (err) {
    return { isConnected: false, error: errorMessage(err) };
  }
  // A late socket error after we gave up must not become an unhandled 'error' event.
  client.on('error', () => undefined);
  const stop = aborted(signal);
  stop.catch(() => undefined);
  try {
    await Promise.race([client.connect(), stop]);
    const res = await Promise.race([client.query<{ server_version: string }>('SHOW server_version'), stop]);
    const version = res.rows[0]?.server_version;
    return { isConnected: true, ...(version ? { version: leadingVersion(version) } : {}) };
  } catch (err) {
    if (signal.aborted) throw err;
    return { isConnected: false, error: errorMessage(err) };
  } finally {
    await client.end().catch(() => undefined);
  }
}
