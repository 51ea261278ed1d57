import { readdir } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { defineCollector } from '../framework/collector.types';
import { readOptional } from './host-fs';

export const sysctlCollector = defineCollector({
  type: 'sysctl',
  scope: 'host',
  defaultTitle: 'Sysctl',
  async collect(ctx) {
    const root = join(ctx.policy.host.proc, 'sys');
    const values: Record<string, string> = {};
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      entries.sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const entry of entries) {
        if (ctx.signal.aborted) return;
        const key = prefix ? `${prefix}.${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(join(dir, entry.name), key);
        else if (entry.isFile()) {
          // Write-only and permission-guarded parameters are skipped, as `sysctl -a` does.
          const text = await readOptional(join(dir, entry.name));
          if (text !== undefined)
            values[key] = text
              .trim()
              .replace(/\s*\n\s*/g, ' ')
              .replace(/\t/g, ' ');
        }
      }
    };
    await walk(root, '');
    if (Object.keys(values).length === 0) throw new Error(`no kernel parameters readable under ${root}`);
    await ctx.output.addJson('host-collectors/system/sysctl.json', values);
  },
});

const MODULE_STATE: Record<string, string> = { Live: 'loaded', Loading: 'loading', Unloading: 'unloading' };

export interface KernelModuleInfo {
  size: number;
  instances: number;
  status: string;
}

export function parseProcModules(text: string): Record<string, KernelModuleInfo> {
  const out: Record<string, KernelModuleInfo> = {};
  for (const line of text.split('\n')) {
    const [name, size, instances, , state] = line.trim().split(/\s+/);
    if (!name || size === undefined) continue;
    out[name] = {
      size: Number(size) || 0,
      instances: Number(instances) || 0,
      status: MODULE_STATE[state ?? ''] ?? 'unknown',
    };
  }
  return out;
}

/** Module names from modules.dep / modules.builtin paths (`kernel/fs/xfs/xfs.ko.zst` → `xfs`). */
function moduleNames(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.split(':')[0]!.trim())
    .filter(Boolean)
    .map((path) =>
      path
        .slice(path.lastIndexOf('/') + 1)
        .replace(/\.ko(\.\w+)?$/, '')
        .replace(/-/g, '_'),
    );
}

export const kernelModulesCollector = defineCollector({
  type: 'kernelModules',
  scope: 'host',
  defaultTitle: 'Kernel Modules',
  async collect(ctx) {
    const procModules = await readOptional(join(ctx.policy.host.proc, 'modules'));
    if (procModules === undefined)
      throw new Error(`cannot read ${join(ctx.policy.host.proc, 'modules')}: kernel modules are not visible here`);
    const modules: Record<string, KernelModuleInfo> = {};
    const treeDir = join(ctx.policy.host.modules, release());
    for (const name of moduleNames((await readOptional(join(treeDir, 'modules.builtin'))) ?? ''))
      modules[name] = { size: 0, instances: 0, status: 'loaded' };
    for (const name of moduleNames((await readOptional(join(treeDir, 'modules.dep'))) ?? ''))
      modules[name] ??= { size: 0, instances: 0, status: 'loadable' };
    Object.assign(modules, parseProcModules(procModules));
    await ctx.output.addJson('host-collectors/system/kernel_modules.json', modules);
  },
});
