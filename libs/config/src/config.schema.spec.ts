import { ConfigError, parseConfig } from './config.schema';

describe('parseConfig', () => {
  it('applies defaults, including the per-app HTTP port', () => {
    expect(parseConfig('api', {}).http.port).toBe(3000);
    expect(parseConfig('scheduler', {}).http.port).toBe(3001);
    const worker = parseConfig('worker', {});
    expect(worker.http.port).toBe(3002);
    expect(worker.redis.url).toBe('redis://127.0.0.1:6379');
    expect(worker.prefix).toBe('cronbundle');
    expect(worker.worker.concurrency).toBe(10);
  });

  it('reads values from the environment', () => {
    const c = parseConfig('worker', {
      REDIS_URL: 'rediss://u:p@redis.example:6380/2',
      WORKER_CONCURRENCY: '25',
      HTTP_PORT: '0',
      CRONBUNDLE_PREFIX: 'cb-test',
      INSTANCE_ID: 'w-1',
    });
    expect(c).toMatchObject({
      redis: { url: 'rediss://u:p@redis.example:6380/2' },
      worker: { concurrency: 25 },
      http: { port: 0 },
      prefix: 'cb-test',
      instanceId: 'w-1',
    });
  });

  it.each([
    ['REDIS_URL', 'nope', /must be a redis:\/\/ or rediss:\/\/ URL/],
    ['REDIS_URL', 'http://localhost:6379', /redis:\/\//],
    ['WORKER_CONCURRENCY', '-1', /must be >= 1/],
    ['WORKER_CONCURRENCY', 'ten', /whole number/],
    ['PORT', '70000', /must be <= 65535/],
    ['REDIS_MODE', 'cluster', /not supported yet/],
    ['LOG_LEVEL', 'loud', /must be one of/],
    ['CRONBUNDLE_PREFIX', 'a b', /letters, digits/],
  ])('rejects %s=%s naming the variable', (name, value, problem) => {
    let error: unknown;
    try {
      parseConfig('api', { [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(new RegExp(`^${name}: `));
    expect(message).toMatch(problem);
  });

  it('never echoes a value, so a password in REDIS_URL cannot leak into the error', () => {
    expect(() => parseConfig('api', { REDIS_URL: 'redis//:hunter2@x' })).toThrow(ConfigError);
    try {
      parseConfig('api', { REDIS_URL: 'redis//:hunter2@x' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('reports every bad variable at once, on one line', () => {
    try {
      parseConfig('worker', { REDIS_URL: 'nope', WORKER_CONCURRENCY: '0' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.variable)).toEqual(['REDIS_URL', 'WORKER_CONCURRENCY']);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
