import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Self time by function, largest first. */
  topFunctions: { name: string; ms: number; pct: number }[];
  /** Self time by package (node_modules/<pkg>), our code (apps/libs), node internals, GC, idle. */
  byOrigin: { origin: string; ms: number; pct: number }[];
}

function originOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (/dist\/apps\//.test(url)) return 'cronbundle (bundled)';
  return basename(url);
}

/** Self time per function and per origin of a V8 .cpuprofile (as written by node --cpu-prof). */
export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const fns = new Map<string, number>();
  const origins = new Map<string, number>();
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = `${functionName || '(anonymous)'} ${url ? `${basename(url)}:${lineNumber + 1}` : ''}`.trim();
    fns.set(name, (fns.get(name) ?? 0) + ms);
    const origin = originOf(url, functionName);
    origins.set(origin, (origins.get(origin) ?? 0) + ms);
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ k, ms: Math.round(ms), pct: Number(((ms / totalMs) * 100).toFixed(1)) }));
  return {
    file,
    totalMs: Math.round(totalMs),
    topFunctions: rows(fns).map(({ k, ...r }) => ({ name: k, ...r })),
    byOrigin: rows(origins).map(({ k, ...r }) => ({ origin: k, ...r })),
  };
}

/** Profiles written to dir since `since` (epoch ms). */
export function newProfiles(dir: string, since: number): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).mtimeMs >= since);
  } catch {
    return [];
  }
}
