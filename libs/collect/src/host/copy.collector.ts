import { constants } from 'node:fs';
import { lstat, open, readdir, realpath } from 'node:fs/promises';
import { basename, isAbsolute, join, posix, resolve } from 'node:path';
import fg from 'fast-glob';
import { defineCollector } from '../framework/collector.types';
import { isWithin } from '../framework/references';
import type { HostCollectorSpec } from '../spec/collector-schemas';

/**
 * Copies host files matching a glob into `host-collectors/<name>/<basename of match>/…`. Only
 * below `allowedPaths` (compared after resolving symlinks), and never through a symlink that leads
 * out: such entries are listed in `errors.json` instead.
 */
export const copyCollector = defineCollector<HostCollectorSpec<'copy'>>({
  type: 'copy',
  scope: 'host',
  defaultTitle: 'Copy from Host',
  async collect(ctx) {
    const roots = (
      await Promise.all(ctx.policy.allowedPaths.map((p) => realpath(resolve(p)).catch(() => undefined)))
    ).filter((r): r is string => r !== undefined);
    if (roots.length === 0) throw new Error('copy collectors need allowedPaths (none configured or none exist)');
    if (!isAbsolute(ctx.spec.path)) throw new Error(`copy path must be absolute: ${ctx.rawSpec.path}`);
    const base = `host-collectors/${ctx.rawSpec.collectorName || 'copy'}`;
    const errors: string[] = [];
    const matches = await fg(ctx.spec.path, {
      onlyFiles: false,
      followSymbolicLinks: false,
      dot: true,
      absolute: true,
      unique: true,
    });
    if (matches.length === 0) throw new Error(`no files match ${ctx.rawSpec.path}`);

    const inside = (real: string) => roots.some((root) => isWithin(root, real));
    const copyFile = async (real: string, target: string) => {
      const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const st = await handle.stat();
        if (!st.isFile()) throw new Error('not a regular file');
        await ctx.output.addStream(target, handle.createReadStream({ autoClose: false }), st.size);
      } finally {
        await handle.close();
      }
    };
    const visit = async (path: string, target: string, depth: number): Promise<void> => {
      if (ctx.signal.aborted) return;
      try {
        const link = await lstat(path);
        const real = await realpath(path);
        if (!inside(real)) {
          errors.push(`${path}: outside the allowed paths${link.isSymbolicLink() ? ` (symlink to ${real})` : ''}`);
          return;
        }
        const st = link.isSymbolicLink() ? await lstat(real) : link;
        if (st.isDirectory()) {
          if (link.isSymbolicLink()) {
            errors.push(`${path}: symlinked directory not followed`);
            return;
          }
          if (depth > 32) throw new Error('directory tree too deep');
          for (const entry of (await readdir(path)).sort())
            await visit(join(path, entry), posix.join(target, entry), depth + 1);
        } else if (st.isFile()) {
          await copyFile(real, target);
        } else {
          errors.push(`${path}: not a regular file`);
        }
      } catch (err) {
        errors.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    for (const match of matches.sort()) await visit(match, `${base}/${basename(match)}`, 0);
    if (errors.length > 0)
      await ctx.output.addJson(
        `${base}/errors.json`,
        errors.map((e) => ctx.scrub(e)),
      );
  },
});
