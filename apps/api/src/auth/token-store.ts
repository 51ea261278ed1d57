import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Each role can do everything the roles before it can. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who made a request: the token's name, or `anonymous` when auth is disabled. */
export interface Actor {
  name: string;
  role: Role;
}

export const ANONYMOUS: Actor = { name: 'anonymous', role: 'admin' };

const tokenEntrySchema = z.strictObject({
  name: z.string().trim().min(1).max(128),
  role: z.enum(ROLES),
  sha256: z
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be the hex sha256 of the token (64 hex digits)'),
});
const tokensFileSchema = z.union([
  z.array(tokenEntrySchema),
  z.strictObject({ tokens: z.array(tokenEntrySchema) }).transform((f) => f.tokens),
]);

export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The API's bearer tokens. Only sha256 digests are held; a presented token is hashed and compared
 * with every entry in constant time (no early exit), so timing tells nothing about which digest is close.
 */
export class TokenStore {
  private readonly entries: { actor: Actor; digest: Buffer }[];

  constructor(entries: { name: string; role: Role; sha256: string }[]) {
    this.entries = entries.map((e) => ({
      actor: { name: e.name, role: e.role },
      digest: Buffer.from(e.sha256.toLowerCase(), 'hex'),
    }));
  }

  /** Parse a YAML or JSON token file; throws TokenFileError with one line naming the problem (never a hash). */
  static fromText(text: string, source = 'API_TOKENS_FILE'): TokenStore {
    let raw: unknown;
    try {
      raw = parseYaml(text); // YAML is a superset of JSON
    } catch (err) {
      throw new TokenFileError(`${source}: not valid YAML or JSON (${(err as Error).message.split('\n')[0]})`);
    }
    const result = tokensFileSchema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue.path.length ? ` at ${issue.path.join('.')}` : '';
      throw new TokenFileError(`${source}: must be a list of {name, role, sha256}${where}: ${issue.message}`);
    }
    const names = new Set<string>();
    for (const e of result.data) {
      if (names.has(e.name)) throw new TokenFileError(`${source}: token name ${e.name} appears twice`);
      names.add(e.name);
    }
    return new TokenStore(result.data);
  }

  static fromFile(path: string): TokenStore {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new TokenFileError(
        `API_TOKENS_FILE: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    return TokenStore.fromText(text, 'API_TOKENS_FILE');
  }

  get size(): number {
    return this.entries.length;
  }

  authenticate(token: string): Actor | undefined {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: Actor | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(digest, e.digest) && !found) found = e.actor;
    }
    return found;
  }
}

/** `Authorization: Bearer <token>` -> the token; undefined when absent or another scheme. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(value ?? '');
  return m?.[1];
}
