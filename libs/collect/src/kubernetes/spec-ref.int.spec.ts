import { KubeApiServer, kubeStatus } from '@cronbundle/testing';
import { parseSpec } from '../spec/spec-parser';
import { loadSpecRef, SpecRefError } from '../spec/spec-ref';
import { resolveKubernetesSpecRef } from './spec-ref';

describe('resolveKubernetesSpecRef against a recorded Kubernetes API', () => {
  let api: KubeApiServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await KubeApiServer.start();
    env = { KUBECONFIG: await api.writeKubeconfig() };
  });
  afterEach(() => api.reset());
  afterAll(() => api.stop());

  it('reads support-bundle-spec from a Secret (base64-decoded), as kubectl support-bundle secret/ns/name does', async () => {
    const text = await resolveKubernetesSpecRef('secret/cronbundle/bundle-spec', { env });
    expect(api.requests.map((r) => r.pathname)).toEqual(['/api/v1/namespaces/cronbundle/secrets/bundle-spec']);
    const { spec } = parseSpec(text);
    expect(spec.collectors).toEqual([{ clusterInfo: {} }]);
    expect(spec.hostCollectors).toEqual([{ cpu: {} }]);
  });

  it("is what the job's specRef switch (loadSpecRef) uses for secret/… and configmap/…", async () => {
    await expect(loadSpecRef('configmap/cronbundle/bundle-spec', { allowedPaths: [], env })).resolves.toContain(
      'name: from-configmap',
    );
    const missing = loadSpecRef('secret/cronbundle/nope', { allowedPaths: [], env });
    await expect(missing).rejects.toBeInstanceOf(SpecRefError);
    await expect(missing).rejects.toThrow(/specRef "secret\/cronbundle\/nope" cannot be read: .*\(HTTP 404\)/);
  });

  it('reads support-bundle-spec from a ConfigMap', async () => {
    const text = await resolveKubernetesSpecRef('configmap/cronbundle/bundle-spec', { env });
    expect(text).toContain('name: from-configmap');
    expect(api.requests.map((r) => r.pathname)).toEqual(['/api/v1/namespaces/cronbundle/configmaps/bundle-spec']);
  });

  it('names the reference and the reason when the object is missing or forbidden', async () => {
    await expect(resolveKubernetesSpecRef('secret/cronbundle/nope', { env })).rejects.toThrow(
      /^specRef "secret\/cronbundle\/nope" cannot be read: .*\(HTTP 404\)$/,
    );
    api.respond('/api/v1/namespaces/cronbundle/secrets/bundle-spec', {
      status: 403,
      body: kubeStatus(403, 'Forbidden', 'secrets "bundle-spec" is forbidden'),
    });
    await expect(resolveKubernetesSpecRef('secret/cronbundle/bundle-spec', { env })).rejects.toThrow(
      'specRef "secret/cronbundle/bundle-spec" cannot be read: secrets "bundle-spec" is forbidden (HTTP 403)',
    );
  });

  it('refuses an object without the support-bundle-spec key, without echoing its data', async () => {
    const failure = resolveKubernetesSpecRef('secret/cronbundle/no-spec-key', { env });
    await expect(failure).rejects.toThrow(
      'specRef "secret/cronbundle/no-spec-key": the secret has no key "support-bundle-spec"',
    );
    await expect(failure).rejects.not.toThrow(/eA==/);
  });

  it('says no cluster is configured when the environment names none, and rejects malformed references', async () => {
    await expect(resolveKubernetesSpecRef('secret/cronbundle/bundle-spec', { env: {} })).rejects.toThrow(
      /no cluster configured/,
    );
    await expect(resolveKubernetesSpecRef('secret/cronbundle', { env })).rejects.toThrow(
      /must be secret\/<namespace>\/<name> or configmap\/<namespace>\/<name>/,
    );
    await expect(resolveKubernetesSpecRef('secret/../etc/passwd', { env })).rejects.toThrow(/must be secret/);
    expect(api.requests).toEqual([]);
  });
});
