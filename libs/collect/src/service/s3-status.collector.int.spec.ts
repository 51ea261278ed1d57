import { S3RVER_CREDENTIALS, S3TestServer, freePort } from '@cronbundle/testing';
import { createDefaultRegistry } from '../default-registry';
import { createReferenceResolver } from '../framework/references';
import { runCollectors } from '../framework/run-collectors';
import { parseSpec } from '../spec/spec-parser';
import { MemorySink } from '../test-helpers';

async function collect(collectors: Record<string, unknown>[], env: Record<string, string> = {}) {
  const { spec } = parseSpec({ apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { collectors } });
  const sink = new MemorySink();
  const summary = await runCollectors(spec, sink, {
    registry: createDefaultRegistry(),
    resolver: createReferenceResolver({ env }),
    timeoutMs: 15_000,
  });
  return { sink, summary };
}

const allText = (sink: MemorySink) => [...sink.files.keys(), ...sink.files.values()].join('\n');

describe('s3Status collector (real s3rver)', () => {
  let s3: S3TestServer;
  // Credentials come from references, as a worker secret would supply them.
  const env = { S3_KEY: S3RVER_CREDENTIALS.accessKeyId, S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey };
  const body = (bucketName: string, extra: Record<string, unknown> = {}) => ({
    bucketName,
    endpoint: s3.endpoint,
    region: 'us-east-1',
    usePathStyle: true,
    accessKeyID: '${env:S3_KEY}',
    secretAccessKey: '${env:S3_SECRET}',
    ...extra,
  });

  beforeAll(async () => {
    s3 = await S3TestServer.start(['diag-bundles']);
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('reports an existing bucket and a missing one at s3Status/<name>.json', async () => {
    const { sink, summary } = await collect(
      [
        { s3Status: { collectorName: 'bundles', ...body('diag-bundles') } },
        { s3Status: { collectorName: 'missing', ...body('no-such-bucket') } },
        { s3Status: body('diag-bundles') },
      ],
      env,
    );
    expect(summary).toMatchObject({ total: 3, failed: 0, skipped: 0 });
    expect(sink.json('s3Status/bundles.json')).toEqual({ bucketName: 'diag-bundles', exists: true, isConnected: true });
    expect(sink.json('s3Status/s3Status.json')).toEqual({
      bucketName: 'diag-bundles',
      exists: true,
      isConnected: true,
    });
    expect(sink.json('s3Status/missing.json')).toEqual({
      bucketName: 'no-such-bucket',
      exists: false,
      isConnected: true,
      error: 'bucket not found (HTTP 404)',
    });
    expect(allText(sink)).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
  });

  it('reports wrong credentials as connected but not readable, without the secret', async () => {
    const { sink, summary } = await collect(
      [{ s3Status: { collectorName: 'bad-key', ...body('diag-bundles', { accessKeyID: '${env:BAD_KEY}' }) } }],
      { ...env, BAD_KEY: 'AKIAWRONGKEY0000' },
    );
    expect(summary.failed).toBe(0);
    expect(sink.json('s3Status/bad-key.json')).toEqual({
      bucketName: 'diag-bundles',
      exists: false,
      isConnected: true,
      error: 'access denied (HTTP 403)',
    });
    const text = allText(sink);
    expect(text).not.toContain('AKIAWRONGKEY0000');
    expect(text).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
  });

  it('records an unreachable endpoint and a metadata address as isConnected: false', async () => {
    const closed = await freePort();
    const { sink, summary } = await collect(
      [
        {
          s3Status: {
            collectorName: 'down',
            ...body('diag-bundles', { endpoint: `http://127.0.0.1:${closed}` }),
          },
        },
        {
          s3Status: {
            collectorName: 'metadata',
            ...body('diag-bundles', { endpoint: 'http://169.254.169.254' }),
          },
        },
      ],
      env,
    );
    expect(summary.failed).toBe(0);
    expect(sink.json('s3Status/down.json')).toEqual({
      bucketName: 'diag-bundles',
      exists: false,
      isConnected: false,
      error: expect.stringMatching(/ECONNREFUSED/),
    });
    expect(sink.json('s3Status/metadata.json')).toEqual({
      bucketName: 'diag-bundles',
      exists: false,
      isConnected: false,
      error: expect.stringMatching(/^blocked: 169\.254\.169\.254 .*link-local\/metadata/),
    });
    expect(allText(sink)).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
  });

  it('sends an unsigned request when the spec has no credentials, never the worker’s own', async () => {
    // Were the SDK's default chain used, it would sign with this key, which s3rver refuses (403).
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAWORKERS0WNKEY00';
    process.env.AWS_SECRET_ACCESS_KEY = 'worker-own-secret';
    try {
      const { sink, summary } = await collect([
        {
          s3Status: {
            collectorName: 'anonymous',
            bucketName: 'diag-bundles',
            endpoint: s3.endpoint,
            usePathStyle: true,
          },
        },
      ]);
      expect(summary.failed).toBe(0);
      // s3rver serves anonymous requests.
      expect(sink.json('s3Status/anonymous.json')).toEqual({
        bucketName: 'diag-bundles',
        exists: true,
        isConnected: true,
      });
    } finally {
      for (const [key, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('fails the collector (error file) when bucketName is missing', async () => {
    const { sink, summary } = await collect([{ s3Status: { collectorName: 'nameless', endpoint: s3.endpoint } }]);
    expect(summary.failed).toBe(1);
    expect(sink.json('collector-errors/nameless-error.json')).toMatchObject({
      collector: 'nameless',
      error: 's3Status needs bucketName',
    });
  });
});
