/** `support-bundle-2006-01-02T15_04_05` (UTC): the top folder troubleshoot's readers recognise. */
export function bundleFolderName(at: Date = new Date()): string {
  const iso = at.toISOString(); // 2006-01-02T15:04:05.000Z
  return `support-bundle-${iso.slice(0, 10)}T${iso.slice(11, 19).replace(/:/g, '_')}`;
}

/**
 * A bundle entry path relative to the top folder, in POSIX form. Refuses anything that could land
 * outside the folder once extracted (absolute paths, `..`, NUL) rather than silently rewriting it.
 */
export function normalizeEntryPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new BundleError('entry path must be a non-empty string');
  if (path.includes('\0')) throw new BundleError(`entry path contains NUL: ${JSON.stringify(path)}`);
  const unified = path.replace(/\\/g, '/');
  if (unified.startsWith('/')) throw new BundleError(`entry path must be relative: ${path}`);
  const parts: string[] = [];
  for (const part of unified.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new BundleError(`entry path must not contain "..": ${path}`);
    parts.push(part);
  }
  if (parts.length === 0) throw new BundleError(`entry path is empty after normalisation: ${path}`);
  return parts.join('/');
}

export class BundleError extends Error {
  override readonly name = 'BundleError';
}
