import { open, realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { isWithin } from '../framework/references';
import { isKubernetesSpecRef, resolveKubernetesSpecRef } from '../kubernetes/spec-ref';

/** Largest spec file a `specRef` may name (the parser's own limit on spec text). */
export const MAX_SPEC_FILE_BYTES = 5 * 1024 * 1024;

/** A `specRef` that cannot be resolved: says which reference and why, never the file's content. */
export class SpecRefError extends Error {
  override readonly name = 'SpecRefError';
}

export interface SpecRefOptions {
  /** Roots a `file:` reference may point below (the worker's COLLECT_ALLOWED_PATHS), checked after symlinks. */
  allowedPaths: readonly string[];
  /** Environment naming the cluster for `secret/…` and `configmap/…` references (KUBECONFIG, in-cluster). */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/**
 * The spec text a job's `specRef` names. Supported: `file:<absolute path>` below one of the allowed
 * roots, and `secret/<ns>/<name>` / `configmap/<ns>/<name>` (key `support-bundle-spec`, as
 * `kubectl support-bundle secret/ns/name`) from the cluster `options.env` names.
 */
export async function loadSpecRef(ref: string, options: SpecRefOptions): Promise<string> {
  if (isKubernetesSpecRef(ref)) {
    // Key `support-bundle-spec`, read with the Kubernetes collectors' client (kubernetes/spec-ref.ts).
    const k8s = { env: options.env ?? {}, ...(options.signal ? { signal: options.signal } : {}) };
    return resolveKubernetesSpecRef(ref, k8s).catch((err: unknown) => {
      throw new SpecRefError(err instanceof Error ? err.message : String(err));
    });
  }
  if (!ref.startsWith('file:')) {
    throw new SpecRefError(
      `specRef "${ref}": unsupported reference (expected file:<absolute path>, secret/<ns>/<name> or configmap/<ns>/<name>)`,
    );
  }
  const path = ref.slice('file:'.length);
  if (!isAbsolute(path)) throw new SpecRefError(`specRef "${ref}": the path must be absolute`);
  const real = await realpath(path).catch(() => {
    throw new SpecRefError(`specRef "${ref}": file not found or not readable`);
  });
  const roots = await Promise.all(options.allowedPaths.map((r) => realpath(resolve(r)).catch(() => undefined)));
  if (!roots.some((root) => root !== undefined && isWithin(root, real)))
    throw new SpecRefError(
      `specRef "${ref}": the file is outside COLLECT_ALLOWED_PATHS${options.allowedPaths.length === 0 ? ' (none configured)' : ''}`,
    );
  const handle = await open(real, 'r').catch(() => {
    throw new SpecRefError(`specRef "${ref}": file not readable`);
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new SpecRefError(`specRef "${ref}": not a regular file`);
    if (info.size > MAX_SPEC_FILE_BYTES)
      throw new SpecRefError(`specRef "${ref}": the file is larger than ${MAX_SPEC_FILE_BYTES} bytes`);
    // Read at most one byte past the limit: the file may grow between stat and read.
    const buffer = Buffer.alloc(MAX_SPEC_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_SPEC_FILE_BYTES)
      throw new SpecRefError(`specRef "${ref}": the file is larger than ${MAX_SPEC_FILE_BYTES} bytes`);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
