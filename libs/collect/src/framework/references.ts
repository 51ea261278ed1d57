import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export interface Reference {
  kind: 'env' | 'file';
  name: string;
}

/** Turns `${env:NAME}` / `${file:/path}` into values at run time; supplied by the caller. */
export interface ReferenceResolver {
  resolve(ref: Reference): Promise<string>;
}

const REF = /\$\{(env|file):([^}]+)\}/g;

export function hasReferences(value: unknown): boolean {
  if (typeof value === 'string') return new RegExp(REF.source).test(value);
  if (Array.isArray(value)) return value.some(hasReferences);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasReferences);
  return false;
}

export interface Resolved<T> {
  value: T;
  /** Resolved value → the reference text it came from, to scrub messages. */
  secrets: Map<string, string>;
}

/** Deep-copy `value` with every reference in its strings resolved. */
export async function resolveReferences<T>(value: T, resolver: ReferenceResolver | undefined): Promise<Resolved<T>> {
  const secrets = new Map<string, string>();
  const walk = async (v: unknown): Promise<unknown> => {
    if (typeof v === 'string') {
      const matches = [...v.matchAll(REF)];
      if (matches.length === 0) return v;
      if (!resolver) throw new Error(`the spec uses ${matches[0]![0]} but no reference resolver was configured`);
      let out = '';
      let last = 0;
      for (const m of matches) {
        const resolved = await resolver.resolve({ kind: m[1] as Reference['kind'], name: m[2]! });
        if (resolved.length > 0) secrets.set(resolved, m[0]);
        out += v.slice(last, m.index) + resolved;
        last = m.index! + m[0].length;
      }
      return out + v.slice(last);
    }
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[k] = await walk(inner);
      return out;
    }
    return v;
  };
  return { value: (await walk(value)) as T, secrets };
}

export function scrubber(secrets: Map<string, string>): (text: string) => string {
  // Longest first, so a secret containing another is replaced whole.
  const pairs = [...secrets.entries()].sort((a, b) => b[0].length - a[0].length);
  return (text) => pairs.reduce((t, [secret, ref]) => t.split(secret).join(ref), text);
}

export interface ReferenceResolverOptions {
  /** Variables `${env:NAME}` may read. */
  env: Record<string, string | undefined>;
  /** Roots `${file:/path}` may read below (after resolving symlinks); none by default. */
  fileRoots?: string[];
}

/** The default resolver: env vars from the given map, files only below `fileRoots`. */
export function createReferenceResolver(options: ReferenceResolverOptions): ReferenceResolver {
  return {
    async resolve(ref) {
      if (ref.kind === 'env') {
        const value = options.env[ref.name];
        if (value === undefined) throw new Error(`environment variable ${ref.name} is not set`);
        return value;
      }
      if (!isAbsolute(ref.name)) throw new Error(`\${file:${ref.name}} must be an absolute path`);
      const real = await realpath(ref.name).catch(() => {
        throw new Error(`cannot read \${file:${ref.name}}`);
      });
      const roots = await Promise.all(
        (options.fileRoots ?? []).map((r) => realpath(resolve(r)).catch(() => undefined)),
      );
      if (!roots.some((root) => root !== undefined && isWithin(root, real)))
        throw new Error(`\${file:${ref.name}} is outside the allowed file roots`);
      return (await readFile(real, 'utf8')).replace(/\r?\n$/, '');
    },
  };
}

export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
