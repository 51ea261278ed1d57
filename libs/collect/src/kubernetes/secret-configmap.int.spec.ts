import { KubeApiServer, kubeStatus } from '@cronbundle/testing';
import { runClusterCollectors } from './kube-test-run';

const PASSWORD = 'S3cr3t-Pa55-7f2e';
const TLS_KEY = 'TLSKEY-9d1c';

describe('secret and configMap against a recorded Kubernetes API', () => {
  let api: KubeApiServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await KubeApiServer.start();
    env = { KUBECONFIG: await api.writeKubeconfig() };
  });
  afterEach(() => api.reset());
  afterAll(() => api.stop());

  it('records existence and key, never the value, by default', async () => {
    const { sink, summary, everything } = await runClusterCollectors(
      [{ secret: { namespace: 'app', name: 'db-credentials', key: 'password' } }],
      env,
    );
    expect(summary.failed).toBe(0);
    expect(sink.json('secrets/app/db-credentials/password.json')).toEqual({
      namespace: 'app',
      name: 'db-credentials',
      key: 'password',
      secretExists: true,
      keyExists: true,
    });
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(Buffer.from(PASSWORD).toString('base64'));
  });

  it('includeValue writes the decoded value into the bundle file only, never into log lines or events', async () => {
    const { sink, events } = await runClusterCollectors(
      [{ secret: { namespace: 'app', name: 'db-credentials', key: 'password', includeValue: true } }],
      env,
    );
    expect(sink.json('secrets/app/db-credentials/password.json')).toMatchObject({ keyExists: true, value: PASSWORD });
    const holders = [...sink.files].filter(([, data]) => data.toString('utf8').includes(PASSWORD)).map(([p]) => p);
    expect(holders).toEqual(['secrets/app/db-credentials/password.json']);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it('a missing secret is an answer (secretExists false), recorded in secrets-errors, not a failure', async () => {
    const { sink, summary } = await runClusterCollectors(
      [{ secret: { namespace: 'app', name: 'missing', key: 'token' } }],
      env,
    );
    expect(summary.failed).toBe(0);
    expect(sink.json('secrets/app/missing/token.json')).toEqual({
      namespace: 'app',
      name: 'missing',
      key: 'token',
      secretExists: false,
      keyExists: false,
    });
    expect(sink.json('secrets-errors/app/missing/token.json')).toEqual([expect.stringContaining('(HTTP 404)')]);
  });

  it('selects secrets by label and takes the namespace from the kubeconfig context', async () => {
    const kubeconfig = await api.writeKubeconfig({ namespace: 'app' });
    const { sink, everything } = await runClusterCollectors([{ secret: { selector: ['app=db'] } }], {
      KUBECONFIG: kubeconfig,
    });
    const request = api.requests.find((r) => r.pathname === '/api/v1/namespaces/app/secrets');
    expect(request?.query.labelSelector).toBe('app=db');
    expect([...sink.files.keys()]).toEqual(['secrets/app/db-credentials.json']);
    expect(sink.json('secrets/app/db-credentials.json')).toEqual({
      namespace: 'app',
      name: 'db-credentials',
      key: '',
      secretExists: true,
      keyExists: false,
    });
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(TLS_KEY);
  });

  it('a 403 lands in secrets-errors and the collector error file, without values, and the run goes on', async () => {
    api.respond('/api/v1/namespaces/app/secrets/db-credentials', {
      status: 403,
      body: kubeStatus(
        403,
        'Forbidden',
        'secrets "db-credentials" is forbidden: User "x" cannot get resource "secrets"',
      ),
    });
    const { sink, summary } = await runClusterCollectors(
      [
        { secret: { namespace: 'app', name: 'db-credentials', key: 'password', includeValue: true } },
        { configMap: { namespace: 'app', name: 'app-config' } },
      ],
      env,
    );
    expect(summary.failed).toBe(1);
    const message = 'secrets "db-credentials" is forbidden: User "x" cannot get resource "secrets" (HTTP 403)';
    expect(sink.json('secrets-errors/app/db-credentials/password.json')).toEqual([message]);
    expect(sink.json('collector-errors/secret-error.json')).toMatchObject({ collector: 'secret', error: message });
    expect(sink.files.has('secrets/app/db-credentials/password.json')).toBe(false);
    expect(sink.json('configmaps/app/app-config.json')).toMatchObject({ configMapExists: true });
  });

  it('configMap reports a key, and its value only with includeValue', async () => {
    const { sink } = await runClusterCollectors(
      [
        {
          configMap: {
            collectorName: 'level',
            namespace: 'app',
            name: 'app-config',
            key: 'LOG_LEVEL',
            includeValue: true,
          },
        },
        { configMap: { collectorName: 'db', namespace: 'app', name: 'app-config', key: 'DATABASE_URL' } },
        { configMap: { collectorName: 'none', namespace: 'app', name: 'app-config', key: 'NOPE' } },
      ],
      env,
    );
    expect(sink.json('configmaps/app/app-config/LOG_LEVEL.json')).toEqual({
      namespace: 'app',
      name: 'app-config',
      key: 'LOG_LEVEL',
      configMapExists: true,
      keyExists: true,
      value: 'debug',
    });
    expect(sink.json('configmaps/app/app-config/DATABASE_URL.json')).not.toHaveProperty('value');
    expect(sink.json('configmaps/app/app-config/NOPE.json')).toMatchObject({ configMapExists: true, keyExists: false });
  });

  it('without a cluster, every Kubernetes collector records "no cluster configured" and the run goes on', async () => {
    const { sink, summary } = await runClusterCollectors(
      [
        { clusterInfo: {} },
        { clusterResources: {} },
        { logs: { namespace: 'app' } },
        { secret: { namespace: 'app', name: 'db-credentials' } },
        { configMap: { namespace: 'app', name: 'app-config' } },
        { data: { name: 'notes', collectorName: 'after.txt', data: 'ok' } },
      ],
      {}, // no KUBECONFIG, no HOME, no KUBERNETES_SERVICE_HOST
    );
    expect(summary).toMatchObject({ total: 6, failed: 5 });
    for (const title of ['cluster-info', 'cluster-resources', 'logs', 'secret', 'configmap']) {
      expect(sink.json(`collector-errors/${title}-error.json`)).toMatchObject({
        collector: title,
        error: expect.stringContaining('no cluster configured'),
      });
    }
    expect(sink.text('notes/after.txt')).toBe('ok');
    expect(api.requests).toEqual([]);
  });
});
