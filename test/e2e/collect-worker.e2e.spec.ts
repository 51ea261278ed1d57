import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { readBundleEntries } from '@cronbundle/bundle';
import { RedisKeys } from '@cronbundle/redis';
import { JobRegistry } from '@cronbundle/registry';
import { AppProcess, connectTestRedis, deletePrefix, testPrefix, testRedisUrl, waitFor } from '@cronbundle/testing';

interface ExecutionBody {
  id: string;
  status: string;
  bundle?: { name: string };
  error: { stage: string; message: string } | null;
  logs?: { level: string; message: string }[];
}

/** A spec of `data` collectors: a small one, a big one (`bigBytes`), then two more small ones. */
function dataSpec(bigBytes: number): string {
  const entry = (name: string, data: string) => `    - data: { name: files, collectorName: ${name}, data: "${data}" }`;
  return [
    'apiVersion: troubleshoot.sh/v1beta2',
    'kind: SupportBundle',
    'spec:',
    '  collectors:',
    entry('small.txt', 'a'.repeat(100)),
    entry('big.txt', 'b'.repeat(bigBytes)),
    entry('after-1.txt', 'c'.repeat(100)),
    entry('after-2.txt', 'd'.repeat(100)),
    '',
  ].join('\n');
}

/**
 * The worker side of issue 6's spec references and size limit: `specRef: file:<path>` below
 * COLLECT_ALLOWED_PATHS, MAX_BUNDLE_BYTES as the default budget, a job's own limits.maxBundleBytes.
 */
describe('worker collect: specRef files and the bundle size limit (built processes, real Redis)', () => {
  const prefix = testPrefix();
  const keys = new RedisKeys(prefix);
  const uploadDir = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-limit-bundles-'));
  const specDir = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-specs-'));
  let redis: Redis;
  let registry: JobRegistry;
  let api: AppProcess;
  let worker: AppProcess;

  const call = (method: string, path: string) =>
    fetch(`${api.url}/api/v1${path}`, { method, signal: AbortSignal.timeout(5000) });
  const execution = async (id: string) => (await (await call('GET', `/executions/${id}`)).json()) as ExecutionBody;
  const run = async (jobId: string): Promise<ExecutionBody> => {
    // The previous run's lock is released just after its record is final: retry a 409 briefly.
    const res = await waitFor(
      async () => {
        const r = await call('POST', `/jobs/${jobId}/trigger`);
        return r.status === 409 ? undefined : r;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `a trigger of ${jobId} to be accepted` },
    );
    expect(res.status).toBe(202);
    const { executionId } = (await res.json()) as { executionId: string };
    return waitFor(
      async () => {
        const e = await execution(executionId);
        return ['succeeded', 'failed'].includes(e.status) ? e : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: `execution ${executionId} to finish` },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\nworker: ${worker.tail(30)}`);
    });
  };
  const files = async (jobId: string, e: ExecutionBody) => {
    const entries = await readBundleEntries(createReadStream(join(uploadDir, jobId, e.bundle!.name)));
    return new Map(entries.map((x) => [x.name.slice(x.name.indexOf('/') + 1), x.content.toString()]));
  };
  const job = (id: string, spec: unknown, extra: Record<string, unknown> = {}) => ({
    id,
    schedule: { cron: '0 0 1 1 *' },
    retry: { attempts: 1, backoffSeconds: 0 },
    spec,
    ...extra,
  });

  beforeAll(async () => {
    writeFileSync(join(specDir, 'data.yaml'), dataSpec(8000));
    redis = connectTestRedis();
    registry = new JobRegistry(redis, keys);
    const env = {
      REDIS_URL: testRedisUrl(),
      CRONBUNDLE_PREFIX: prefix,
      AUTH_DISABLED: 'true',
      UPLOAD_DEFAULT_URL: pathToFileURL(uploadDir).href,
      COLLECT_ALLOWED_PATHS: specDir,
      MAX_BUNDLE_BYTES: '4096',
      LOG_LEVEL: 'warn',
    };
    [api, worker] = await Promise.all([AppProcess.start('api', env), AppProcess.start('worker', env)]);
    await Promise.all([api.waitForStatus(), worker.waitForStatus()]);
  });
  afterAll(async () => {
    api?.kill();
    worker?.kill();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(uploadDir, { recursive: true, force: true });
    rmSync(specDir, { recursive: true, force: true });
  });

  it('reads specRef file:<path> at run time and applies MAX_BUNDLE_BYTES: cut, recorded, still uploaded', async () => {
    await registry.create(job('limited', { specRef: `file:${join(specDir, 'data.yaml')}` }));
    const done = await run('limited');
    expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: null });
    const bundle = await files('limited', done);
    expect(bundle.has('files/big.txt')).toBe(false);
    const limits = JSON.parse(bundle.get('execution-data/limits.json')!) as Record<string, unknown>;
    expect(limits).toMatchObject({
      maxBundleBytes: 4096,
      exhausted: true,
      truncatedCollectors: ['data "big.txt"'],
      truncatedFiles: expect.arrayContaining(['files/big.txt']),
    });
    expect(bundle.get('execution-data/summary.txt')).toMatch(/data "big.txt": \d+ ms, ok, output truncated/);
    expect(done.logs!.map((l) => l.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/bundle size limit of 4096 bytes reached; truncated: data "big.txt"/),
        'data "big.txt": output truncated at its size cap',
      ]),
    );

    // The file is read at each run: an edit applies to the next one.
    writeFileSync(join(specDir, 'data.yaml'), dataSpec(1000));
    const next = await run('limited');
    expect(next.status).toBe('succeeded');
    const nextBundle = await files('limited', next);
    expect(nextBundle.get('files/big.txt')).toBe('b'.repeat(1000));
    expect(nextBundle.has('execution-data/limits.json')).toBe(false);
    writeFileSync(join(specDir, 'data.yaml'), dataSpec(8000));
  });

  it("a job's own limits.maxBundleBytes overrides MAX_BUNDLE_BYTES", async () => {
    await registry.create(
      job('roomy', { specRef: `file:${join(specDir, 'data.yaml')}` }, { limits: { maxBundleBytes: 100_000 } }),
    );
    const done = await run('roomy');
    expect(done.status).toBe('succeeded');
    const bundle = await files('roomy', done);
    expect(bundle.get('files/big.txt')).toBe('b'.repeat(8000));
    expect(bundle.has('execution-data/limits.json')).toBe(false);
  });

  it('a specRef outside COLLECT_ALLOWED_PATHS fails the run at collect, naming the reference', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'cronbundle-e2e-outside-'));
    try {
      writeFileSync(join(outside, 'spec.yaml'), dataSpec(10));
      await registry.create(job('escape', { specRef: `file:${join(outside, 'spec.yaml')}` }));
      const done = await run('escape');
      expect(done.status).toBe('failed');
      expect(done.error).toEqual({
        stage: 'collect',
        message: `specRef "file:${join(outside, 'spec.yaml')}": the file is outside COLLECT_ALLOWED_PATHS`,
      });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a job with collector: support-bundle runs in external mode, which this worker refuses without COLLECT_ALLOW_RUN', async () => {
    await registry.create(
      job('outsourced', { specRef: `file:${join(specDir, 'data.yaml')}` }, { collector: 'support-bundle' }),
    );
    const done = await run('outsourced');
    expect(done.status).toBe('failed');
    expect(done.error?.stage).toBe('collect');
    expect(done.error?.message).toMatch(/external mode runs troubleshoot's support-bundle.*COLLECT_ALLOW_RUN=true/);
  });
});
