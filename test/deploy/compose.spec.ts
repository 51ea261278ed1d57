import { join } from 'node:path';
import { AppName } from '@cronbundle/config';
import { appOfEntry, arr, checkAppEnv, hasRedisOption, isObj, Obj, obj, readYaml, REPO_ROOT } from './deploy-checks';

const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');

/** Compose durations: `15s`, `1m30s`, `500ms`. */
function durationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

function environmentOf(service: Obj): Obj {
  if (Array.isArray(service.environment)) {
    return Object.fromEntries(
      service.environment.map((e) => {
        const [name, ...rest] = String(e).split('=');
        return [name, rest.length ? rest.join('=') : undefined];
      }),
    );
  }
  return obj(service.environment);
}

/** Every way docker-compose.yml can disagree with the apps; empty when it is right. */
function composeProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const services = obj(obj(doc).services);
  const appImages = new Set(
    Object.values(services)
      .map(obj)
      .filter((s) => s.build !== undefined)
      .map((s) => s.image),
  );
  const apps = new Map<AppName, string[]>();

  for (const [name, raw] of Object.entries(services)) {
    const s = obj(raw);
    if (s.build === undefined && !appImages.has(s.image)) continue;
    const where = `service ${name}`;
    const command = arr(s.command);
    if (command.length !== 1) {
      problems.push(`${where}: command must be ["dist/apps/<app>/main.js"], got ${JSON.stringify(s.command)}`);
      continue;
    }
    const { app, problem } = appOfEntry(command[0]);
    if (!app) {
      problems.push(`${where}: ${problem}`);
      continue;
    }
    apps.set(app, [...(apps.get(app) ?? []), name]);

    const { config, problems: envProblems } = checkAppEnv(app, environmentOf(s), where);
    problems.push(...envProblems);

    const redis = obj(obj(s.depends_on).redis);
    if (redis.condition !== 'service_healthy') problems.push(`${where}: must depend on redis being service_healthy`);

    if (config) {
      const test = arr(obj(s.healthcheck).test).map(String).join(' ');
      const url = `http://127.0.0.1:${config.http.port}/health/ready`;
      if (!test.includes(`'${url}'`)) problems.push(`${where}: healthcheck must fetch ${url}, got: ${test}`);
      if (/\bcurl\b|\bwget\b/.test(test)) problems.push(`${where}: the slim image has no curl or wget`);

      const grace = durationMs(s.stop_grace_period ?? '10s');
      if (grace === undefined || grace <= config.shutdownGraceMs + 1500) {
        problems.push(
          `${where}: stop_grace_period must exceed SHUTDOWN_GRACE_MS (${config.shutdownGraceMs} ms) + 1.5 s`,
        );
      }
    }

    const scalable = app === 'worker' || app === 'scheduler';
    if (scalable && s.container_name !== undefined) problems.push(`${where}: container_name prevents --scale`);
    const fixedHostPort = arr(s.ports).some((p) => (isObj(p) ? p.published !== undefined : String(p).includes(':')));
    if (scalable && fixedHostPort) problems.push(`${where}: a fixed host port prevents --scale`);
    if (app === 'scheduler') {
      const replicas = Number(obj(s.deploy).replicas ?? 1);
      if (!(replicas >= 2)) problems.push(`${where}: run at least 2 schedulers (deploy.replicas), got ${replicas}`);
    }
    if (app === 'api' && config && !arr(s.ports).some((p) => String(p).endsWith(`:${config.http.port}`))) {
      problems.push(`${where}: must publish port ${config.http.port}`);
    }
  }

  for (const app of ['api', 'scheduler', 'worker'] as const) {
    if (!apps.has(app)) problems.push(`no service runs the ${app}`);
  }

  const redis = obj(services.redis);
  const redisCommand = arr(redis.command);
  if (!hasRedisOption(redisCommand, '--appendonly', 'yes')) problems.push('redis: command must set --appendonly yes');
  if (!hasRedisOption(redisCommand, '--maxmemory-policy', 'noeviction')) {
    problems.push('redis: command must set --maxmemory-policy noeviction');
  }
  if (!arr(obj(redis.healthcheck).test).includes('redis-cli'))
    problems.push('redis: healthcheck must use redis-cli ping');
  return problems;
}

describe('docker-compose.yml', () => {
  const load = () => readYaml(COMPOSE_FILE);

  it('runs every app from its build output with a valid environment, health checks and scaling', () => {
    expect(composeProblems(load())).toEqual([]);
  });

  it('runs api, scheduler and worker from the same image', () => {
    const services = obj(obj(load()).services);
    const images = ['api', 'scheduler', 'worker'].map((name) => obj(services[name]).image);
    expect(new Set(images).size).toBe(1);
    expect(obj(services.worker).build).toBe('.');
  });

  it('creates the bundles bucket once MinIO is healthy', () => {
    const services = obj(obj(load()).services);
    const init = obj(services['minio-init']);
    expect(init.image).toMatch(/^minio\/mc(:|$)/);
    expect(obj(obj(init.depends_on).minio).condition).toBe('service_healthy');
    expect(arr(init.command).join(' ')).toMatch(/\bmb\b.*\/bundles$/);
  });

  describe('the checker', () => {
    const mutate = (change: (services: Obj) => void): string[] => {
      const doc = load();
      change(obj(obj(doc).services));
      return composeProblems(doc);
    };

    it('rejects a misspelt variable name', () => {
      const problems = mutate((s) => {
        obj(obj(s.worker).environment).REDIS_ULR = 'redis://redis:6379';
      });
      expect(problems).toEqual([expect.stringMatching(/service worker: REDIS_ULR is not a config variable/)]);
    });

    it('rejects a value the app would refuse at boot', () => {
      const problems = mutate((s) => {
        obj(obj(s.worker).environment).WORKER_CONCURRENCY = '0';
      });
      expect(problems).toEqual([expect.stringMatching(/service worker: WORKER_CONCURRENCY: must be >= 1/)]);
    });

    it('rejects an entry point of an app that does not exist', () => {
      const problems = mutate((s) => {
        obj(s.worker).command = ['dist/apps/wroker/main.js'];
      });
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/service worker: .*unknown app "wroker"/),
          'no service runs the worker',
        ]),
      );
    });

    it('rejects a health check on the wrong port', () => {
      const problems = mutate((s) => {
        obj(obj(s.scheduler).environment).HTTP_PORT = '4001';
      });
      expect(problems).toEqual([
        expect.stringMatching(/service scheduler: healthcheck must fetch http:\/\/127\.0\.0\.1:4001/),
      ]);
    });

    it('rejects what prevents scaling and a single scheduler', () => {
      const problems = mutate((s) => {
        obj(s.worker).ports = ['3002:3002'];
        obj(s.worker).container_name = 'worker';
        obj(obj(s.scheduler).deploy).replicas = 1;
      });
      expect(problems).toEqual([
        'service scheduler: run at least 2 schedulers (deploy.replicas), got 1',
        'service worker: container_name prevents --scale',
        'service worker: a fixed host port prevents --scale',
      ]);
    });

    it('rejects a Redis that may evict keys or lose writes', () => {
      const problems = mutate((s) => {
        obj(s.redis).command = ['redis-server', '--maxmemory-policy', 'allkeys-lru'];
      });
      expect(problems).toEqual([
        'redis: command must set --appendonly yes',
        'redis: command must set --maxmemory-policy noeviction',
      ]);
    });
  });
});
