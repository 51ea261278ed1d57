// Types only: the driver loads on first use (docs/BENCHMARKS.md, memory).
import type { Connection, ConnectionOptions, RowDataPacket } from 'mysql2/promise';
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
 * troubleshoot's `mysql` collector: connect with `uri`, read `version()` and the server variables
 * named in `parameters`, write `mysql/<collectorName|mysql>.json` =
 * `{isConnected, error?, version?, variables?}`. A failed connection is a result, not an error.
 */
export const mysqlCollector = databaseCollector('mysql', probeMysql);

/**
 * `mysql://user:pass@host:3306/db?…` as it is, or Go's DSN (troubleshoot's form)
 * `user:pass@tcp(host:3306)/db?…` → connection options.
 */
export function mysqlConnectionOptions(uri: string): ConnectionOptions {
  if (/^mysql:\/\//i.test(uri)) return { uri };
  const dsn = /^(?:([^:@]*)(?::(.*))?@)?(?:tcp\(([^)]*)\)|unix\(([^)]*)\))?\/([^?]*)(?:\?(.*))?$/.exec(uri);
  if (!dsn) throw new Error('uri must be mysql://user:pass@host:port/db or user:pass@tcp(host:port)/db');
  const [, user, password, tcp, socket, database] = dsn;
  const options: ConnectionOptions = {};
  if (user) options.user = decodeURIComponent(user);
  if (password !== undefined) options.password = password;
  if (database) options.database = decodeURIComponent(database);
  if (socket) options.socketPath = socket;
  else {
    const address = tcp || '127.0.0.1:3306';
    const colon = address.lastIndexOf(':');
    const host = colon > 0 && !address.endsWith(']') ? address.slice(0, colon) : address;
    options.host = host.replace(/^\[|\]$/g, '');
    options.port = colon > 0 && !address.endsWith(']') ? Number(address.slice(colon + 1)) : 3306;
  }
  return options;
}

export async function probeMysql(spec: DatabaseSpec, timeoutMs: number, signal: AbortSignal): Promise<DatabaseResult> {
  let options: ConnectionOptions;
  try {
    const ssl = tlsOptions(spec.tls);
    options = {
      ...mysqlConnectionOptions(spec.uri),
      connectTimeout: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
      ...(ssl ? { ssl } : {}),
    };
  } catch (err) {
    return { isConnected: false, error: errorMessage(err) };
  }
  const stop = aborted(signal);
  stop.catch(() => undefined);
  const { createConnection } = await import('mysql2/promise');
  const connecting = createConnection(options);
  let connection: Connection | undefined;
  try {
    connection = await Promise.race([connecting, stop]);
    connection.on('error', () => undefined);
    const [rows] = await Promise.race([
      connection.query<RowDataPacket[]>({ sql: 'SELECT version() AS version', timeout: timeoutMs }),
      stop,
    ]);
    const version = String(rows[0]?.version ?? '');
    const result: DatabaseResult = { isConnected: true, ...(version ? { version: leadingVersion(version) } : {}) };
    const names = spec.parameters ?? [];
    if (names.length > 0) {
      const [vars] = await Promise.race([
        connection.query<RowDataPacket[]>({
          sql: `SHOW VARIABLES WHERE Variable_name IN (${names.map(() => '?').join(', ')})`,
          values: names,
          timeout: timeoutMs,
        }),
        stop,
      ]);
      result.variables = Object.fromEntries(vars.map((r) => [String(r.Variable_name), String(r.Value)]));
    }
    return result;
  } catch (err) {
    if (signal.aborted) throw err;
    return { isConnected: false, error: errorMessage(err) };
  } finally {
    if (connection) await connection.end().catch(() => connection?.destroy());
    else void connecting.then((c) => c.destroy()).catch(() => undefined);
  }
}
