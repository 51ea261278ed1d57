import { AppProcess, RedisServer, runBuiltApp, testPrefix } from '@cronbundle/testing';

const APPS = ['api', 'scheduler', 'worker'] as const;

describe('built apps against a real redis-server', () => {
  let redis: RedisServer;
  const running: AppProcess[] = [];

  beforeAll(async () => {
    // A private Redis: this test stops and restarts it.
    redis = await RedisServer.start({ appendonly: true });
  });
  afterAll(async () => {
    running.forEach((p) => p.kill());
    await redis?.stop();
  });

  it('each app serves /health/live, /health/ready and /metrics; readiness follows Redis; SIGTERM exits 0 within 10 s', async () => {
    const env = { REDIS_URL: redis.url, CRONBUNDLE_PREFIX: testPrefix(), AUTH_DISABLED: 'true' };
    const apps = await Promise.all(APPS.map((app) => AppProcess.start(app, env)));
    running.push(...apps);
    await Promise.all(apps.map((a) => a.waitForStatus('/health/ready', 200)));

    for (const app of apps) {
      const live = await app.get('/health/live');
      expect(live.status).toBe(200);
      const ready = await (await app.get('/health/ready')).json();
      expect(ready).toMatchObject({ status: 'ok', details: { redis: { status: 'up' } } });
      const metrics = await app.get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      const body = await metrics.text();
      expect(body).toContain(`process_resident_memory_bytes{app="${app.app}"}`);
    }

    // Redis goes away: not ready (503), still alive (200).
    await redis.stop({ keepDir: true });
    await Promise.all(apps.map((a) => a.waitForStatus('/health/ready', 503, 10_000)));
    for (const app of apps) {
      expect((await app.get('/health/live')).status).toBe(200);
      const down = (await (await app.get('/health/ready')).json()) as { error: { redis: { status: string } } };
      expect(down.error.redis.status).toBe('down');
    }

    // Redis is back on the same port: ready again without a restart of the apps.
    await redis.restart();
    await Promise.all(apps.map((a) => a.waitForStatus('/health/ready', 200, 15_000)));

    const exits = await Promise.all(apps.map((a) => a.stop('SIGTERM', 10_000)));
    for (const [i, exit] of exits.entries()) {
      expect({ app: APPS[i], code: exit.code, signal: exit.signal }).toEqual({ app: APPS[i], code: 0, signal: null });
    }
    // SIGINT (Ctrl-C) stops cleanly too.
    const worker = await AppProcess.start('worker', env);
    running.push(worker);
    await worker.waitForStatus();
    expect((await worker.stop('SIGINT')).code).toBe(0);
  });

  it.each([
    ['api', { REDIS_URL: 'nope' }, 'REDIS_URL'],
    ['worker', { WORKER_CONCURRENCY: '-1' }, 'WORKER_CONCURRENCY'],
    ['scheduler', { HTTP_PORT: 'eighty' }, 'HTTP_PORT'],
    ['api', { REDIS_URL: 'redis://:hunter2@', LOG_LEVEL: 'chatty' }, 'REDIS_URL'],
  ] as const)('%s with a bad %j exits non-zero with one line naming %s', async (app, env, variable) => {
    const result = await runBuiltApp(app, [], { ...env });
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${variable}: `);
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stdout).toBe('');
  });
});
