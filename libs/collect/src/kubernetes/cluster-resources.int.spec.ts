import { KUBE_TEST_TOKEN, KubeApiServer, kubeStatus } from '@cronbundle/testing';
import { runClusterCollectors } from './kube-test-run';

type List = { kind: string; apiVersion: string; items: Record<string, unknown>[] };

describe('clusterInfo and clusterResources against a recorded Kubernetes API', () => {
  let api: KubeApiServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await KubeApiServer.start();
    env = { KUBECONFIG: await api.writeKubeconfig() };
  });
  afterEach(() => api.reset());
  afterAll(() => api.stop());

  it('clusterInfo writes cluster-info/cluster_version.json like troubleshoot, authenticating with the kubeconfig token', async () => {
    const { sink, summary } = await runClusterCollectors([{ clusterInfo: {} }], env);
    expect(summary.failed).toBe(0);
    const version = sink.json('cluster-info/cluster_version.json') as { info: Record<string, string>; string: string };
    expect(version.string).toBe('v1.30.4');
    expect(version.info).toMatchObject({ major: '1', minor: '30', gitVersion: 'v1.30.4', platform: 'linux/amd64' });
    const [request] = api.requestsTo('/version');
    expect(request?.headers.authorization).toBe(`Bearer ${KUBE_TEST_TOKEN}`);
  });

  it('clusterResources writes troubleshoot paths as Kubernetes lists for every namespace', async () => {
    const { sink, summary } = await runClusterCollectors([{ clusterResources: {} }], env);
    expect(summary.failed).toBe(0);
    const paths = [...sink.files.keys()].sort();
    expect(paths).toEqual(
      [
        'namespaces.json',
        'nodes.json',
        ...['configmaps', 'deployments', 'events', 'pods', 'services', 'statefulsets'].flatMap((k) => [
          `${k}/app.json`,
          `${k}/default.json`,
        ]),
      ]
        .map((p) => `cluster-resources/${p}`)
        .sort(),
    );

    const namespaces = sink.json('cluster-resources/namespaces.json') as List;
    expect(namespaces.kind).toBe('NamespaceList');
    expect(namespaces.items.map((n) => [n.kind, n.apiVersion, (n.metadata as { name: string }).name])).toEqual([
      ['Namespace', 'v1', 'app'],
      ['Namespace', 'v1', 'default'],
    ]);
    const nodes = sink.json('cluster-resources/nodes.json') as List;
    expect(nodes.kind).toBe('NodeList');
    expect(nodes.items[0]).toMatchObject({ kind: 'Node', status: { nodeInfo: { kubeletVersion: 'v1.30.4' } } });

    const pods = sink.json('cluster-resources/pods/app.json') as List;
    expect(pods).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
    expect(pods.items.map((p) => (p.metadata as { name: string }).name)).toEqual(['web-6d8f7c9b5-x2k4p', 'db-0']);
    expect(pods.items[0]).toMatchObject({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { creationTimestamp: '2026-11-20T08:15:42Z' }, // as the server sent it, not re-serialized
      status: {
        containerStatuses: expect.arrayContaining([
          expect.objectContaining({
            name: 'web',
            restartCount: 1,
            lastState: { terminated: expect.objectContaining({ reason: 'OOMKilled' }) },
          }),
        ]),
      },
    });
    expect(pods.items[0]!.metadata).not.toHaveProperty('managedFields');
    expect((sink.json('cluster-resources/pods/default.json') as List).items).toEqual([]);

    const deployments = sink.json('cluster-resources/deployments/app.json') as List;
    expect(deployments).toMatchObject({ kind: 'DeploymentList', apiVersion: 'apps/v1' });
    expect(deployments.items[0]).toMatchObject({
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      status: { replicas: 2, readyReplicas: 1 },
    });
    expect((sink.json('cluster-resources/statefulsets/app.json') as List).items[0]).toMatchObject({
      kind: 'StatefulSet',
      spec: { serviceName: 'db' },
    });
    expect((sink.json('cluster-resources/services/default.json') as List).items[0]).toMatchObject({
      kind: 'Service',
      spec: { clusterIP: '10.96.0.1' },
    });
    expect((sink.json('cluster-resources/events/app.json') as List).items[0]).toMatchObject({
      kind: 'Event',
      type: 'Warning',
      reason: 'BackOff',
      count: 4,
    });
  });

  it('keeps only ConfigMap metadata: no data, no last-applied annotation repeating it', async () => {
    const { sink, everything } = await runClusterCollectors([{ clusterResources: {} }], env);
    const configmaps = sink.json('cluster-resources/configmaps/app.json') as List;
    expect(configmaps.kind).toBe('ConfigMapList');
    const appConfig = configmaps.items.find((c) => (c.metadata as { name: string }).name === 'app-config')!;
    expect(Object.keys(appConfig).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    expect(appConfig.metadata).toMatchObject({
      namespace: 'app',
      labels: { app: 'web' },
      annotations: { team: 'payments' },
    });
    expect(JSON.stringify(appConfig.metadata)).not.toContain('last-applied-configuration');
    expect(everything).not.toContain('cm-Pa55word');
    expect(everything).not.toContain('BEGIN CERTIFICATE');
  });

  it('honours namespaces: reads only those namespaces and never lists the others', async () => {
    const { sink, summary } = await runClusterCollectors([{ clusterResources: { namespaces: ['app'] } }], env);
    expect(summary.failed).toBe(0);
    const namespaces = sink.json('cluster-resources/namespaces.json') as Record<string, unknown>[];
    expect(namespaces).toHaveLength(1);
    expect(namespaces[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'app' } });
    expect(sink.files.has('cluster-resources/pods/app.json')).toBe(true);
    expect([...sink.files.keys()].filter((p) => p.includes('default'))).toEqual([]);
    expect(api.requestsTo('/api/v1/namespaces/default')).toEqual([]);
    expect(api.requests.filter((r) => r.pathname === '/api/v1/namespaces')).toEqual([]);
  });

  it('records a 403 and a 500 beside the output and keeps going', async () => {
    api.respond('/api/v1/namespaces/app/pods', {
      status: 403,
      body: kubeStatus(
        403,
        'Forbidden',
        'pods is forbidden: User "system:serviceaccount:ops:cronbundle" cannot list resource "pods" in API group "" in the namespace "app"',
      ),
    });
    api.respond('/api/v1/nodes', {
      status: 500,
      body: kubeStatus(500, 'InternalError', 'etcdserver: request timed out'),
    });
    const { sink, summary } = await runClusterCollectors([{ clusterResources: {} }, { clusterInfo: {} }], env);

    expect(sink.json('cluster-resources/pods-errors.json')).toEqual({
      app: 'pods is forbidden: User "system:serviceaccount:ops:cronbundle" cannot list resource "pods" in API group "" in the namespace "app" (HTTP 403)',
    });
    expect(sink.json('cluster-resources/nodes-errors.json')).toEqual(['etcdserver: request timed out (HTTP 500)']);
    expect(sink.files.has('cluster-resources/pods/app.json')).toBe(false);
    expect(sink.files.has('cluster-resources/pods/default.json')).toBe(true);
    expect(sink.files.has('cluster-resources/deployments/app.json')).toBe(true);
    expect(sink.files.has('cluster-resources/nodes.json')).toBe(false);
    // Partial RBAC is data, as in troubleshoot: the collector and the run carry on.
    expect(summary.failed).toBe(0);
    expect(sink.files.has('cluster-info/cluster_version.json')).toBe(true);
  });

  it('fails the collector, not the run, when every request failed', async () => {
    api.respond('/api/v1/namespaces', { status: 403, body: kubeStatus(403, 'Forbidden', 'namespaces is forbidden') });
    api.respond('/api/v1/nodes', { status: 403, body: kubeStatus(403, 'Forbidden', 'nodes is forbidden') });
    const { sink, summary } = await runClusterCollectors(
      [{ clusterResources: {} }, { data: { name: 'notes', collectorName: 'after.txt', data: 'still here' } }],
      env,
    );
    expect(summary.failed).toBe(1);
    expect(sink.json('cluster-resources/namespaces-errors.json')).toEqual(['namespaces is forbidden (HTTP 403)']);
    expect(sink.json('collector-errors/cluster-resources-error.json')).toMatchObject({
      collector: 'cluster-resources',
      error: expect.stringContaining('namespaces is forbidden (HTTP 403)'),
    });
    expect(sink.text('notes/after.txt')).toBe('still here');
  });

  it('clusterInfo records a 500 in its error files and the next collector still runs', async () => {
    api.respond('/version', { status: 500, body: kubeStatus(500, 'InternalError', 'apiserver is shutting down') });
    const { sink, summary } = await runClusterCollectors(
      [{ clusterInfo: {} }, { data: { name: 'notes', collectorName: 'after.txt', data: 'ok' } }],
      env,
    );
    expect(summary.failed).toBe(1);
    expect(sink.json('collector-errors/cluster-info-error.json')).toMatchObject({
      collector: 'cluster-info',
      error: 'apiserver is shutting down (HTTP 500)',
    });
    expect(sink.json('cluster-info/errors.json')).toEqual(['apiserver is shutting down (HTTP 500)']);
    expect(sink.files.has('cluster-info/cluster_version.json')).toBe(false);
    expect(sink.text('notes/after.txt')).toBe('ok');
  });
});
