import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { AppConfig, AppName, CONFIG_VARIABLES, parseConfig } from '@cronbundle/config';

/** Shared checks of the deployment files (docker-compose.yml, deploy/k8s) against the code. */

export const REPO_ROOT = resolve(__dirname, '..', '..');

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function readYaml(path: string): unknown {
  // `merge` resolves the `<<: *anchor` keys that docker compose understands.
  return parse(readFileSync(path, 'utf8'), { merge: true });
}

const APP_NAMES: readonly AppName[] = ['api', 'scheduler', 'worker', 'cli'];

/** The app an entry point like `dist/apps/worker/main.js` starts, or a problem. */
export function appOfEntry(entry: unknown, root = REPO_ROOT): { app?: AppName; problem?: string } {
  const m = typeof entry === 'string' ? /^dist\/apps\/([a-z-]+)\/main\.js$/.exec(entry) : null;
  if (!m) return { problem: `entry ${JSON.stringify(entry)} is not dist/apps/<app>/main.js` };
  const app = m[1] as AppName;
  if (!APP_NAMES.includes(app)) return { problem: `entry ${entry}: unknown app "${app}"` };
  if (!existsSync(join(root, 'apps', app, 'src', 'main.ts'))) {
    return { problem: `entry ${entry}: apps/${app}/src/main.ts does not exist` };
  }
  return { app };
}

/**
 * Validate an app's environment as the app itself would at boot, and reject any name that is not
 * in CONFIG_VARIABLES (the app would silently ignore a misspelt variable).
 */
export function checkAppEnv(app: AppName, env: Obj, where: string): { config?: AppConfig; problems: string[] } {
  const problems: string[] = [];
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!(name in CONFIG_VARIABLES)) problems.push(`${where}: ${name} is not a config variable (libs/config)`);
    if (typeof value === 'string' || typeof value === 'number') strings[name] = String(value);
    else if (value !== undefined) problems.push(`${where}: ${name} must be a string`);
  }
  try {
    return { config: parseConfig(app, strings), problems };
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
    return { problems };
  }
}

/** True when the args contain `flag value`, or `flag` and `value` in one string, e.g. `--appendonly yes`. */
export function hasRedisOption(args: unknown[], flag: string, value: string): boolean {
  const words = args.flatMap((a) => String(a).split(/\s+/));
  return words.some((w, i) => w === flag && words[i + 1] === value);
}

// ---------------------------------------------------------------------------------------------
// A small kustomize: just the features deploy/k8s uses, so the tests can check what would be
// applied without a kustomize binary. A field it does not know is an error, not a silent skip.

const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'labels',
  'resources',
  'configMapGenerator',
  'images',
  'replicas',
  'patches',
]);

export interface Rendered {
  resources: Obj[];
  /** Files a kustomization names that do not exist, and unsupported fields. */
  problems: string[];
}

export function renderKustomization(dir: string): Rendered {
  const problems: string[] = [];
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) return { resources: [], problems: [`${dir}: no kustomization.yaml`] };
  const k = obj(readYaml(file));
  for (const field of Object.keys(k)) {
    if (!KUSTOMIZATION_FIELDS.has(field)) problems.push(`${file}: field ${field} is not understood by the test`);
  }

  const resources: Obj[] = [];
  for (const entry of arr(k.resources)) {
    const path = join(dir, String(entry));
    if (!existsSync(path)) {
      problems.push(`${file}: resource ${String(entry)} does not exist`);
    } else if (statSync(path).isDirectory()) {
      const sub = renderKustomization(path);
      resources.push(...sub.resources);
      problems.push(...sub.problems);
    } else {
      for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
        const value: unknown = doc.toJS();
        if (isObj(value)) resources.push(value);
      }
    }
  }

  for (const gen of arr(k.configMapGenerator).map(obj)) {
    const data: Obj = {};
    for (const literal of arr(gen.literals).map(String)) {
      const eq = literal.indexOf('=');
      data[literal.slice(0, eq)] = literal.slice(eq + 1);
    }
    const existing = resources.find((r) => r.kind === 'ConfigMap' && obj(r.metadata).name === gen.name);
    if (gen.behavior === 'merge') {
      if (existing) existing.data = { ...obj(existing.data), ...data };
      else problems.push(`${file}: configMapGenerator ${String(gen.name)} merges into nothing`);
    } else {
      resources.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data });
    }
  }

  for (const r of arr(k.replicas).map(obj)) {
    const target = resources.find((x) => x.kind === 'Deployment' && obj(x.metadata).name === r.name);
    if (target) obj(target.spec).replicas = r.count;
    else problems.push(`${file}: replicas for unknown Deployment ${String(r.name)}`);
  }

  for (const p of arr(k.patches).map(obj)) {
    const target = obj(p.target);
    const matches = resources.filter((x) => targets(target, x));
    if (matches.length === 0) problems.push(`${file}: a patch matches no resource`);
    for (const op of arr(parse(String(p.patch ?? '[]'))).map(obj)) {
      for (const m of matches) {
        const problem = applyJsonPatchOp(m, op);
        if (problem) problems.push(`${file}: ${problem}`);
      }
    }
  }

  if (typeof k.namespace === 'string') {
    for (const r of resources) if (r.kind !== 'Namespace') obj(r.metadata).namespace = k.namespace;
  }
  return { resources, problems };
}

function targets(target: Obj, resource: Obj): boolean {
  const meta = obj(resource.metadata);
  if (target.kind !== undefined && target.kind !== resource.kind) return false;
  if (target.name !== undefined && target.name !== meta.name) return false;
  if (typeof target.labelSelector === 'string') {
    const labels = obj(meta.labels);
    return target.labelSelector.split(',').every((pair) => {
      const [key, value] = pair.split('=');
      return labels[key.trim()] === value?.trim();
    });
  }
  return true;
}

function applyJsonPatchOp(doc: Obj, op: Obj): string | undefined {
  const tokens = String(op.path).split('/').slice(1);
  const last = tokens.pop();
  let parent: unknown = doc;
  for (const t of tokens) parent = Array.isArray(parent) ? parent[Number(t)] : obj(parent)[t];
  if (last === undefined || (!isObj(parent) && !Array.isArray(parent)))
    return `patch path ${String(op.path)} not found`;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (op.op === 'add') parent.splice(index, 0, op.value);
    else if (op.op === 'remove') parent.splice(index, 1);
    else if (op.op === 'replace') parent[index] = op.value;
    else return `patch op ${String(op.op)} not supported`;
    return undefined;
  }
  if (op.op === 'add' || op.op === 'replace') parent[last] = op.value;
  else if (op.op === 'remove') {
    if (!(last in parent)) return `patch removes missing ${String(op.path)}`;
    delete parent[last];
  } else return `patch op ${String(op.op)} not supported`;
  return undefined;
}

export const k8sDir = (...parts: string[]): string => join(REPO_ROOT, 'deploy', 'k8s', ...parts);
