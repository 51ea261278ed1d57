import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundleEntries } from '@cronbundle/bundle';
import { KubeApiServer, kubeStatus } from '@cronbundle/testing';
import { collectToBundle } from '../collect-to-bundle';
import { runClusterCollectors } from './kube-test-run';

const WEB = 'web-6d8f7c9b5-x2k4p';
const WEB_LOGS = `cluster-resources/pods/logs/app/${WEB}`;

describe('logs against a recorded Kubernetes API', () => {
  let api: KubeApiServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await KubeApiServer.start();
    env = { KUBECONFIG: await api.writeKubeconfig() };
  });
  afterEach(() => api.reset());
  afterAll(() => api.stop());

  it("writes each container's log at troubleshoot's path, previous logs, and a link under the collector's name", async () => {
    const { sink, summary } = await runClusterCollectors(
      [{ logs: { name: 'app-logs', namespace: 'app', selector: ['app=web'] } }],
      env,
    );
    expect(summary.failed).toBe(0);
    expect([...sink.files.keys()].sort()).toEqual(
      [
        `${WEB_LOGS}/log-shipper.log`,
        `${WEB_LOGS}/migrate.log`,
        `${WEB_LOGS}/web-previous.log`,
        `${WEB_LOGS}/web.log`,
      ].sort(),
    );
    expect(sink.text(`${WEB_LOGS}/web.log`).split('\n').filter(Boolean)).toHaveLength(30);
    expect(sink.text(`${WEB_LOGS}/web-previous.log`)).toContain('fatal: out of memory');
    expect(sink.links.get(`app-logs/${WEB}/web.log`)).toBe(`../../${WEB_LOGS}/web.log`);
    expect(sink.links.get(`app-logs/${WEB}/web-previous.log`)).toBe(`../../${WEB_LOGS}/web-previous.log`);
    expect(sink.links.get(`app-logs/${WEB}/migrate.log`)).toBe(`../../${WEB_LOGS}/migrate.log`);

    const [list] = api.requestsTo('/api/v1/namespaces/app/pods').filter((r) => !r.pathname.endsWith('/log'));
    expect(list?.query.labelSelector).toBe('app=web');
    const web = api.requestsTo(`/api/v1/namespaces/app/pods/${WEB}/log`).find((r) => r.query.container === 'web');
    // troubleshoot's defaults: the last 10,000 lines, at most 5,000,000 bytes.
    expect(web?.query).toMatchObject({ tailLines: '10000', limitBytes: '5000000', previous: 'false' });
  });

  it('maxLines keeps the last N lines and asks the server for exactly those', async () => {
    const { sink } = await runClusterCollectors(
      [
        {
          logs: {
            name: 'web',
            namespace: 'app',
            selector: ['app=web'],
            containerNames: ['web'],
            limits: { maxLines: 5 },
          },
        },
      ],
      env,
    );
    const lines = sink.text(`${WEB_LOGS}/web.log`).split('\n').filter(Boolean);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/line 26$/);
    expect(lines[4]).toMatch(/line 30$/);
    const requests = api.requestsTo(`/api/v1/namespaces/app/pods/${WEB}/log`);
    expect(requests.map((r) => [r.query.container, r.query.tailLines])).toEqual([
      ['web', '5'],
      ['web', '5'],
    ]);
    // containerNames limits the containers read.
    expect([...sink.files.keys()].some((p) => p.includes('log-shipper') || p.includes('migrate'))).toBe(false);
  });

  it('maxAge asks for sinceSeconds instead of a line count', async () => {
    await runClusterCollectors(
      [{ logs: { namespace: 'app', selector: ['app=db'], limits: { maxAge: '1h30m' } } }],
      env,
    );
    const [request] = api.requestsTo('/api/v1/namespaces/app/pods/db-0/log');
    expect(request?.query.sinceSeconds).toBe('5400');
    expect(request?.query.tailLines).toBeUndefined();
  });

  it('without a namespace lists pods in every namespace; without a name links from the bundle root', async () => {
    const { sink } = await runClusterCollectors([{ logs: { selector: ['app=db'] } }], env);
    expect(api.requests.some((r) => r.pathname === '/api/v1/pods' && r.query.labelSelector === 'app=db')).toBe(true);
    expect(sink.text('cluster-resources/pods/logs/app/db-0/postgres.log')).toContain('checkpoint complete');
    expect(sink.links.get('db-0/postgres.log')).toBe('../cluster-resources/pods/logs/app/db-0/postgres.log');
  });

  it("records a container's 403 in <name>/<pod>/<container>-errors.json and reads the others", async () => {
    api.respond('/api/v1/namespaces/app/pods/db-0/log', {
      status: 403,
      body: kubeStatus(403, 'Forbidden', 'pods "db-0" is forbidden: cannot get resource "pods/log"'),
    });
    const { sink, summary } = await runClusterCollectors([{ logs: { name: 'all', namespace: 'app' } }], env);
    expect(summary.failed).toBe(0);
    expect(sink.json('all/db-0/postgres-errors.json')).toEqual([expect.stringContaining('HTTP 403')]);
    expect(sink.files.has('cluster-resources/pods/logs/app/db-0/postgres.log')).toBe(false);
    expect(sink.files.has(`${WEB_LOGS}/web.log`)).toBe(true);
  });

  it('records a 500 listing pods in <name>/errors.json and the collector error file; the run goes on', async () => {
    api.respond('/api/v1/namespaces/app/pods', {
      status: 500,
      body: kubeStatus(500, 'InternalError', 'etcdserver: leader changed'),
    });
    const { sink, summary } = await runClusterCollectors(
      [
        { logs: { collectorName: 'app-logs', name: 'app-logs', namespace: 'app' } },
        { data: { name: 'notes', collectorName: 'after.txt', data: 'ok' } },
      ],
      env,
    );
    expect(summary.failed).toBe(1);
    expect(sink.json('app-logs/errors.json')).toEqual(['etcdserver: leader changed (HTTP 500)']);
    expect(sink.json('collector-errors/app-logs-error.json')).toMatchObject({
      error: 'etcdserver: leader changed (HTTP 500)',
    });
    expect(sink.text('notes/after.txt')).toBe('ok');
  });

  it('a log that stalls times the collector out and closes the HTTP request; the run goes on', async () => {
    api.stall('/api/v1/namespaces/app/pods/db-0/log', 'first line\n');
    const closed = api.stalledConnectionClosed();
    const { sink, summary } = await runClusterCollectors(
      [
        { logs: { name: 'db', namespace: 'app', selector: ['app=db'] } },
        { data: { name: 'notes', collectorName: 'after.txt', data: 'ok' } },
      ],
      env,
      { timeoutMs: 500 },
    );
    expect(summary.results[0]).toMatchObject({ type: 'logs', error: 'timed out after 500 ms' });
    await closed;
    expect(sink.json('collector-errors/logs-error.json')).toMatchObject({ error: 'timed out after 500 ms' });
    expect(sink.text('notes/after.txt')).toBe('ok');
  });

  it('lands in a real archive with the log file and a relative symlink to it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cronbundle-logs-'));
    try {
      const file = join(dir, 'bundle.tar.gz');
      const { collectors } = await collectToBundle({
        spec: {
          apiVersion: 'troubleshoot.sh/v1beta2',
          kind: 'SupportBundle',
          spec: { collectors: [{ logs: { name: 'db', namespace: 'app', selector: ['app=db'] } }] },
        },
        destination: createWriteStream(file),
        env,
        bundleName: 'support-bundle-test',
        tmpDir: dir,
      });
      expect(collectors.failed).toBe(0);
      const entries = await readBundleEntries(createReadStream(file));
      const log = entries.find(
        (e) => e.name === 'support-bundle-test/cluster-resources/pods/logs/app/db-0/postgres.log',
      );
      expect(log?.content.toString('utf8').split('\n').filter(Boolean)).toHaveLength(12);
      const link = entries.find((e) => e.name === 'support-bundle-test/db/db-0/postgres.log');
      expect(link).toMatchObject({
        type: 'symlink',
        linkname: '../../cluster-resources/pods/logs/app/db-0/postgres.log',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
