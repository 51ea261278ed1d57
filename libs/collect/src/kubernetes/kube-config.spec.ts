import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { contextNamespace, loadClusterConfig } from './kube-config';

const kubeconfig = (name: string, server: string, namespace?: string) =>
  [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: ${name}, cluster: {server: "${server}"}}]`,
    `users: [{name: ${name}-user, user: {token: t-${name}}}]`,
    `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}-user${namespace ? `, namespace: ${namespace}` : ''}}}]`,
    `current-context: ${name}`,
    '',
  ].join('\n');

describe('loadClusterConfig (loadFromDefault order, from the given environment)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cronbundle-kubeconfig-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns undefined when nothing names a cluster (no localhost:8080 fallback)', async () => {
    expect(await loadClusterConfig({}, { serviceAccountRoot: join(dir, 'none') })).toBeUndefined();
    expect(
      await loadClusterConfig({ HOME: dir, KUBECONFIG: '' }, { serviceAccountRoot: join(dir, 'none') }),
    ).toBeUndefined();
  });

  it('reads KUBECONFIG, merging a path list with the first file’s context winning', async () => {
    await writeFile(join(dir, 'a'), kubeconfig('a', 'https://a.example:6443', 'team-a'));
    await writeFile(join(dir, 'b'), kubeconfig('b', 'https://b.example:6443'));
    const kc = (await loadClusterConfig({ KUBECONFIG: [join(dir, 'a'), join(dir, 'b')].join(delimiter) }))!;
    expect(kc.getCurrentCluster()?.server).toBe('https://a.example:6443');
    expect(kc.getContexts().map((c) => c.name)).toEqual(['a', 'b']);
    expect(contextNamespace(kc)).toBe('team-a');
  });

  it('falls back to $HOME/.kube/config, and names a KUBECONFIG that cannot be read', async () => {
    await mkdir(join(dir, '.kube'));
    await writeFile(join(dir, '.kube', 'config'), kubeconfig('home', 'https://home.example:6443'));
    const kc = (await loadClusterConfig({ HOME: dir }))!;
    expect(kc.getCurrentCluster()?.server).toBe('https://home.example:6443');
    expect(contextNamespace(kc)).toBe('default');
    await expect(loadClusterConfig({ KUBECONFIG: join(dir, 'missing') })).rejects.toThrow(/missing/);
  });

  it('uses the in-cluster service account when KUBERNETES_SERVICE_HOST is set and a token exists', async () => {
    const sa = join(dir, 'sa');
    await mkdir(sa);
    await writeFile(join(sa, 'token'), 'sa-token');
    await writeFile(join(sa, 'ca.crt'), 'ca');
    await writeFile(join(sa, 'namespace'), 'ops\n');
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const kc = (await loadClusterConfig(env, { serviceAccountRoot: sa }))!;
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://10.96.0.1:443', caFile: join(sa, 'ca.crt') });
    expect(kc.getCurrentUser()?.authProvider).toEqual({ name: 'tokenFile', config: { tokenFile: join(sa, 'token') } });
    expect(contextNamespace(kc)).toBe('ops');
    expect(
      (await loadClusterConfig(
        { ...env, KUBERNETES_SERVICE_HOST: 'fd00::1' },
        { serviceAccountRoot: sa },
      ))!.getCurrentCluster()?.server,
    ).toBe('https://[fd00::1]:443');
    // A service-account directory alone, with no service host in the environment, is not a cluster.
    expect(await loadClusterConfig({}, { serviceAccountRoot: sa })).toBeUndefined();
  });
});
