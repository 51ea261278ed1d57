import type { Redis } from 'ioredis';
import { RedisKeys } from '@cronbundle/redis';

export interface AuditEntry {
  /** Stream id (`<ms>-<seq>`), the cursor for paging. */
  id: string;
  ts: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export type AuditInput = Omit<AuditEntry, 'id' | 'ts'>;

/** Keys whose values never reach the audit log, at any depth (ARCHITECTURE.md §6). */
const SECRET_KEY =
  /pass(word)?|secret|token|authorization|api[-_]?key|access[-_]?key|credential|private[-_]?key|session/i;

/** A deep copy with secret-looking values replaced, so `before`/`after` never carry a credential. */
export function stripSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) =>
        // credentialsRef names where a secret lives (env:NAME), not the secret: keep it.
        SECRET_KEY.test(k) && k !== 'credentialsRef' && v !== null && typeof v !== 'object'
          ? [k, '[redacted]']
          : [k, stripSecrets(v)],
      ),
    );
  }
  if (typeof value === 'string') {
    return value
      .replace(/(\w+:\/\/)[^/@\s:]+:[^/@\s]+@/g, '$1[redacted]@')
      .replace(/([?&])([^=&#\s]+)=([^&#\s]*)/g, (m, sep: string, key: string) =>
        // A URL query parameter named like a secret (?token=..., &api_key=...).
        SECRET_KEY.test(key) || /^(sig|signature|key|code)$/i.test(key) ? `${sep}${key}=[redacted]` : m,
      );
  }
  return value;
}

/**
 * The audit log: one Redis stream (`P:audit`), capped at about `maxEntries` (XADD MAXLEN ~),
 * newest first when listed. Every mutating API call appends one entry.
 */
export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly maxEntries = 100_000,
  ) {}

  async append(entry: AuditInput): Promise<string> {
    const ts = new Date().toISOString();
    const id = await this.redis.xadd(
      this.keys.audit,
      'MAXLEN',
      '~',
      String(this.maxEntries),
      '*',
      'e',
      JSON.stringify({
        ts,
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        before: stripSecrets(entry.before),
        after: stripSecrets(entry.after),
      }),
    );
    return id!;
  }

  /** Newest first; `cursor` is the id of the last entry of the previous page. */
  async list(
    options: { limit?: number; cursor?: string } = {},
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    const end = options.cursor ? `(${options.cursor}` : '+';
    const rows = await this.redis.xrevrange(this.keys.audit, end, '-', 'COUNT', limit + 1);
    const items = rows
      .slice(0, limit)
      .map(([id, fields]) => ({ id, ...(JSON.parse(fields[1]) as Omit<AuditEntry, 'id'>) }));
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }
}
