import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppName, CONFIG_VARIABLES } from '@cronbundle/config';
import { appOfEntry, arr, checkAppEnv, hasRedisOption, k8sDir, Obj, obj, renderKustomization } from './deploy-checks';

const ofKind = (resources: Obj[], kind: string) => resources.filter((r) => r.kind === kind);
const nameOf = (r: Obj) => String(obj(r.metadata).name);
const byName = (resources: Obj[], kind: string, name: string) =>
  ofKind(resources, kind).find((r) => nameOf(r) === name);

/** Port a probe or Service targets: a number, or a container port name. */
function resolvePort(port: unknown, container: Obj): number | undefined {
  if (typeof port === 'number') return port;
  const named = arr(container.ports)
    .map(obj)
    .find((p) => p.name === port);
  return typeof named?.containerPort === 'number' ? named.containerPort : undefined;
}

/**
 * Every way the rendered manifests can disagree with the apps; empty when they are right.
 * Secret-sourced variables are checked by name only (their value is not in git).
 */
function k8sProblems(resources: Obj[]): string[] {
  const problems: string[] = [];
  const configMaps = new Map(ofKind(resources, 'ConfigMap').map((c) => [nameOf(c), obj(c.data)]));
  for (const [name, data] of configMaps) {
    for (const key of Object.keys(data)) {
      if (!(key in CONFIG_VARIABLES)) problems.push(`ConfigMap ${name}: ${key} is not a config variable (libs/config)`);
    }
  }

  const seen = new Set<AppName>();
  const portsByApp = new Map<AppName, { container: Obj; port: number }>();
  for (const deployment of ofKind(resources, 'Deployment')) {
    const pod = obj(obj(obj(deployment.spec).template).spec);
    for (const container of arr(pod.containers).map(obj)) {
      const where = `Deployment ${nameOf(deployment)} container ${String(container.name)}`;
      if (container.command !== undefined)
        problems.push(`${where}: set args, not command (the image's entrypoint is node)`);
      const args = arr(container.args);
      const { app, problem } = args.length === 1 ? appOfEntry(args[0]) : { problem: 'args must be one entry point' };
      if (!app) {
        problems.push(`${where}: ${problem}`);
        continue;
      }
      seen.add(app);

      const env: Obj = {};
      for (const source of arr(container.envFrom).map(obj)) {
        const ref = obj(source.configMapRef);
        const data = configMaps.get(String(ref.name));
        if (data) Object.assign(env, data);
        else problems.push(`${where}: envFrom names missing ConfigMap ${String(ref.name)}`);
      }
      for (const e of arr(container.env).map(obj)) {
        const name = String(e.name);
        if (e.valueFrom === undefined) env[name] = e.value;
        else if (!(name in CONFIG_VARIABLES)) problems.push(`${where}: ${name} is not a config variable (libs/config)`);
        else delete env[name];
      }
      const { config, problems: envProblems } = checkAppEnv(app, env, where);
      problems.push(...envProblems);
      if (!config) continue;

      const port = config.http.port;
      const declared = arr(container.ports).map(obj);
      if (!declared.some((p) => p.containerPort === port && p.name === 'http')) {
        problems.push(`${where}: must declare containerPort ${port} named http`);
      }
      for (const [probe, path] of [
        ['livenessProbe', '/health/live'],
        ['readinessProbe', '/health/ready'],
      ] as const) {
        const get = obj(obj(container[probe]).httpGet);
        if (get.path !== path || resolvePort(get.port, container) !== port) {
          problems.push(
            `${where}: ${probe} must GET ${path} on ${port}, got ${String(get.path)} on ${String(get.port)}`,
          );
        }
      }
      const scrapePort = obj(obj(obj(obj(deployment.spec).template).metadata).annotations)['prometheus.io/port'];
      if (scrapePort !== undefined && scrapePort !== String(port)) {
        problems.push(`${where}: prometheus.io/port is ${String(scrapePort)}, the app listens on ${port}`);
      }
      const grace = Number(pod.terminationGracePeriodSeconds ?? 30) * 1000;
      if (grace <= config.shutdownGraceMs + 1500) {
        problems.push(`${where}: terminationGracePeriodSeconds must exceed SHUTDOWN_GRACE_MS + 1.5 s`);
      }
      const security = obj(container.securityContext);
      if (obj(pod.securityContext).runAsNonRoot !== true) problems.push(`${where}: pod must set runAsNonRoot`);
      if (security.readOnlyRootFilesystem !== true) problems.push(`${where}: must set readOnlyRootFilesystem`);
      if (!obj(container.resources).requests || !obj(container.resources).limits) {
        problems.push(`${where}: must set resource requests and limits`);
      }
      if (app === 'scheduler' && !(Number(obj(deployment.spec).replicas ?? 1) >= 2)) {
        problems.push(`${where}: run at least 2 schedulers`);
      }
      portsByApp.set(app, { container, port });
    }
  }

  for (const app of ['api', 'scheduler', 'worker'] as const) {
    if (!seen.has(app)) problems.push(`no Deployment runs the ${app}`);
  }
  const api = portsByApp.get('api');
  const service = byName(resources, 'Service', 'cronbundle-api');
  const servicePort = obj(arr(obj(service?.spec).ports)[0]);
  if (api && resolvePort(servicePort.targetPort, api.container) !== api.port) {
    problems.push(`Service cronbundle-api: targetPort must reach the api on ${api.port}`);
  }
  const pdb = byName(resources, 'PodDisruptionBudget', 'cronbundle-scheduler');
  if (!pdb || obj(obj(obj(pdb.spec).selector).matchLabels)['app.kubernetes.io/component'] !== 'scheduler') {
    problems.push('PodDisruptionBudget cronbundle-scheduler must select the scheduler pods');
  }
  return problems;
}

const render = (...dir: string[]) => {
  const { resources, problems } = renderKustomization(k8sDir(...dir));
  expect(problems).toEqual([]);
  return resources;
};

const worker = (resources: Obj[]) => obj(byName(resources, 'Deployment', 'cronbundle-worker'));

describe('deploy/k8s', () => {
  it.each([['base'], ['overlays/dev'], ['overlays/prod']])(
    '%s: every resource exists, and the manifests match the apps',
    (dir) => {
      expect(k8sProblems(render(...dir.split('/')))).toEqual([]);
    },
  );

  it('base: api and scheduler run two replicas; the worker leaves its count to an autoscaler', () => {
    const base = render('base');
    expect(obj(byName(base, 'Deployment', 'cronbundle-api')?.spec).replicas).toBe(2);
    expect(obj(byName(base, 'Deployment', 'cronbundle-scheduler')?.spec).replicas).toBe(2);
    expect(obj(worker(base).spec)).not.toHaveProperty('replicas');
  });

  it("base: the worker's service account may read what the Kubernetes collectors read, and no secret", () => {
    const base = render('base');
    const binding = obj(byName(base, 'ClusterRoleBinding', 'cronbundle-worker-read'));
    const podSpec = obj(obj(obj(worker(base).spec).template).spec);
    expect(binding.subjects).toEqual([
      expect.objectContaining({ kind: 'ServiceAccount', name: podSpec.serviceAccountName }),
    ]);
    expect(byName(base, 'ServiceAccount', String(podSpec.serviceAccountName))).toBeDefined();
    const role = obj(byName(base, 'ClusterRole', String(obj(binding.roleRef).name)));
    const granted = (role.rules as Obj[]).flatMap((r) =>
      (r.apiGroups as string[]).flatMap((g) =>
        (r.resources as string[]).map((res) => `${g}/${res}:${(r.verbs as string[]).join(',')}`),
      ),
    );
    for (const res of ['namespaces', 'nodes', 'pods', 'pods/log', 'services', 'events', 'configmaps'])
      expect(granted).toContain(`/${res}:get,list`);
    for (const res of ['deployments', 'statefulsets']) expect(granted).toContain(`apps/${res}:get,list`);
    expect(granted.filter((g) => g.includes('secrets'))).toEqual([]);
  });

  it.each([['overlays/dev'], ['overlays/prod']])(
    "%s: the worker's ClusterRoleBinding names its ServiceAccount in the overlay's namespace",
    (dir) => {
      const rendered = render(...dir.split('/'));
      const binding = obj(byName(rendered, 'ClusterRoleBinding', 'cronbundle-worker-read'));
      const account = obj(byName(rendered, 'ServiceAccount', 'cronbundle-worker')?.metadata);
      expect(account.namespace).toMatch(/^cronbundle/);
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'cronbundle-worker', namespace: account.namespace },
      ]);
    },
  );

  it('dev: runs a Redis with AOF on and noeviction, and the apps point at it', () => {
    const dev = render('overlays', 'dev');
    const redis = obj(byName(dev, 'StatefulSet', 'redis'));
    const args = arr(obj(arr(obj(obj(obj(redis.spec).template).spec).containers)[0]).args);
    expect(hasRedisOption(args, '--appendonly', 'yes')).toBe(true);
    expect(hasRedisOption(args, '--maxmemory-policy', 'noeviction')).toBe(true);
    expect(byName(dev, 'Service', 'redis')).toBeDefined();
    expect(obj(byName(dev, 'ConfigMap', 'cronbundle-config')?.data).REDIS_URL).toBe('redis://redis:6379');
  });

  it('prod: REDIS_URL only from a Secret, and more workers than dev', () => {
    const prod = render('overlays', 'prod');
    expect(obj(byName(prod, 'ConfigMap', 'cronbundle-config')?.data)).not.toHaveProperty('REDIS_URL');
    for (const deployment of ofKind(prod, 'Deployment')) {
      const container = obj(arr(obj(obj(obj(deployment.spec).template).spec).containers)[0]);
      const redisUrl = arr(container.env)
        .map(obj)
        .find((e) => e.name === 'REDIS_URL');
      expect(obj(obj(redisUrl?.valueFrom).secretKeyRef)).toEqual({ name: 'cronbundle-redis', key: 'url' });
    }
    const hpa = obj(byName(prod, 'HorizontalPodAutoscaler', 'cronbundle-worker')?.spec);
    expect(obj(hpa.scaleTargetRef)).toMatchObject({ kind: 'Deployment', name: 'cronbundle-worker' });
    const devWorkers = Number(obj(worker(render('overlays', 'dev')).spec).replicas);
    expect(Number(hpa.minReplicas)).toBeGreaterThan(devWorkers);
  });

  describe('the checker', () => {
    it('rejects a misspelt variable in the ConfigMap', () => {
      const base = render('base');
      const data = obj(byName(base, 'ConfigMap', 'cronbundle-config')?.data);
      data.REDIS_ULR = data.REDIS_URL;
      expect(k8sProblems(base)).toEqual([
        'ConfigMap cronbundle-config: REDIS_ULR is not a config variable (libs/config)',
        // each Deployment reads it through envFrom
        expect.stringMatching(/cronbundle-api container api: REDIS_ULR is not a config variable/),
        expect.stringMatching(/cronbundle-scheduler container scheduler: REDIS_ULR/),
        expect.stringMatching(/cronbundle-worker container worker: REDIS_ULR/),
      ]);
    });

    it('rejects a value the app would refuse at boot', () => {
      const base = render('base');
      obj(byName(base, 'ConfigMap', 'cronbundle-config')?.data).LOG_LEVEL = 'loud';
      expect(k8sProblems(base)).toEqual(
        ['api', 'scheduler', 'worker'].map((app) =>
          expect.stringMatching(new RegExp(`container ${app}: LOG_LEVEL: must be one of`)),
        ),
      );
    });

    it('rejects a wrong entry point, probe path or probe port', () => {
      const base = render('base');
      const containerOf = (name: string) =>
        obj(arr(obj(obj(obj(byName(base, 'Deployment', name)?.spec).template).spec).containers)[0]);
      containerOf('cronbundle-worker').args = ['dist/apps/wroker/main.js'];
      obj(obj(containerOf('cronbundle-scheduler').readinessProbe).httpGet).path = '/healthz';
      obj(obj(containerOf('cronbundle-api').livenessProbe).httpGet).port = 3001;
      expect(k8sProblems(base)).toEqual([
        'Deployment cronbundle-api container api: livenessProbe must GET /health/live on 3000, got /health/live on 3001',
        'Deployment cronbundle-scheduler container scheduler: readinessProbe must GET /health/ready on 3001, got /healthz on http',
        expect.stringMatching(/cronbundle-worker container worker: entry dist\/apps\/wroker\/main\.js: unknown app/),
        'no Deployment runs the worker',
      ]);
    });

    it('reports a kustomization resource that does not exist, and a field it cannot check', () => {
      const dir = mkdtempSync(join(tmpdir(), 'cronbundle-kustomize-'));
      try {
        writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [missing.yaml]\npatchesStrategicMerge: [x.yaml]\n');
        const { problems } = renderKustomization(dir);
        expect(problems).toEqual([
          expect.stringMatching(/field patchesStrategicMerge is not understood/),
          expect.stringMatching(/resource missing\.yaml does not exist/),
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
