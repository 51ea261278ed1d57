import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { readBundleEntries } from '@cronbundle/bundle';
import { parse as parseYaml } from 'yaml';
import { collectToBundle } from './collect-to-bundle';
import { createDefaultRegistry } from './default-registry';
import { defineCollector } from './framework/collector.types';
import type { CollectEvent } from './framework/run-collectors';
import { SpecError, parseSpec } from './spec/spec-parser';

describe('collectToBundle', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'collect-e2e-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the troubleshoot layout; a broken collector leaves its error file and the bundle completes', async () => {
    const registry = createDefaultRegistry().register(
      defineCollector({
        type: 'tcpLoadBalancer',
        scope: 'host',
        defaultTitle: 'TCP Load Balancer',
        collect: async () => Promise.reject(new Error('deliberately broken')),
      }),
    );
    const spec = `
apiVersion: troubleshoot.sh/v1beta2
kind: SupportBundle
spec:
  hostCollectors:
    - cpu: {}
    - memory: {}
    - hostOS: {}
    - time: {}
    - ipv4Interfaces: {}
    - diskUsage: { collectorName: root, path: / }
    - tcpConnect: { collectorName: nowhere, address: "127.0.0.1:1" }
    - tcpLoadBalancer: { collectorName: broken }
    - kernelConfigs: { collectorName: kconfig }
    - memory: { collectorName: skipped-memory, exclude: true }
  collectors:
    - data: { name: static, collectorName: hello.txt, data: "hello bundle" }
`;
    const file = join(dir, 'out.tar.gz');
    const events: CollectEvent[] = [];
    const result = await collectToBundle({
      spec,
      destination: createWriteStream(file),
      bundleName: 'support-bundle-2026-11-22T02_00_00',
      maxBundleBytes: 50 * 1024 * 1024,
      allowRun: false,
      allowedPaths: [],
      httpAllow: [],
      extraFiles: [{ path: 'metadata/user.json', content: '{"job":"daily"}' }],
      registry,
      versionNumber: '0.1.0',
      onProgress: (e) => events.push(e),
      now: () => new Date('2026-11-22T02:00:00Z'),
    });

    expect(result.collectors).toMatchObject({ total: 11, failed: 1, skipped: 2 });
    const entries = await readBundleEntries(createReadStream(file));
    const root = 'support-bundle-2026-11-22T02_00_00/';
    expect(entries.every((e) => e.name.startsWith(root))).toBe(true);
    const paths = entries.map((e) => e.name.slice(root.length)).sort();
    expect(paths).toEqual(
      [
        'analysis.json',
        'execution-data/summary.txt',
        'host-collectors/connect/nowhere.json',
        'host-collectors/diskUsage/root.json',
        'host-collectors/errors/broken-error.json',
        'host-collectors/system/cpu.json',
        'host-collectors/system/hostos_info.json',
        'host-collectors/system/ipv4Interfaces.json',
        'host-collectors/system/memory.json',
        'host-collectors/system/time.json',
        'metadata/user.json',
        'skipped-collectors.json',
        'static/hello.txt',
        'version.yaml',
      ].sort(),
    );
    const content = (p: string) => entries.find((e) => e.name === root + p)!.content.toString('utf8');
    expect(parseYaml(content('version.yaml'))).toEqual({
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { versionNumber: '0.1.0' },
    });
    expect(JSON.parse(content('analysis.json'))).toEqual([]);
    expect(JSON.parse(content('host-collectors/errors/broken-error.json'))).toEqual({
      collector: 'broken',
      error: 'deliberately broken',
      timestamp: '2026-11-22T02:00:00.000Z',
    });
    expect(JSON.parse(content('host-collectors/connect/nowhere.json'))).toEqual({
      status: 'connection-refused',
      message: '',
    });
    expect(content('static/hello.txt')).toBe('hello bundle');
    const kb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(JSON.parse(content('host-collectors/system/memory.json'))).toEqual({ total: kb * 1024 });
    expect(JSON.parse(content('skipped-collectors.json'))).toEqual([
      expect.objectContaining({ collector: 'kconfig', reason: expect.stringMatching(/not implemented/), errors: [] }),
      expect.objectContaining({ collector: 'skipped-memory', reason: 'excluded' }),
    ]);
    expect(content('execution-data/summary.txt')).toMatch(
      /tcpLoadBalancer "broken": \d+ ms, failed: deliberately broken/,
    );
    expect(content('execution-data/summary.txt')).toMatch(/^Duration: \d+ ms$/m);

    const bytes = await readFile(file);
    expect(result.bundle).toMatchObject({
      name: 'support-bundle-2026-11-22T02_00_00',
      files: entries.length,
      sizeBytes: bytes.length,
      truncated: [],
    });
    expect(result.bundle.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(events.filter((e) => e.type === 'collector:end')).toHaveLength(9);
  });

  it('runs the example host spec (no run/copy) end to end', async () => {
    const text = readFileSync(join(__dirname, '../../../examples/specs/host.yaml'), 'utf8');
    const { spec } = parseSpec(text);
    const out = new PassThrough();
    const reading = readBundleEntries(out);
    const result = await collectToBundle({ spec, destination: out, collectorTimeoutMs: 10_000, httpAllow: [] });
    const names = (await reading).map((e) => e.name.replace(/^support-bundle-[^/]+\//, ''));
    expect(result.collectors.total).toBe(spec.hostCollectors.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'version.yaml',
        'analysis.json',
        'host-collectors/system/cpu.json',
        'host-collectors/certificate/api-tls.json',
      ]),
    );
    expect(result.bundle.name).toMatch(/^support-bundle-\d{4}-\d\d-\d\dT\d\d_\d\d_\d\d$/);
  });

  it('puts analyzer results in analysis.json through beforeFinalize', async () => {
    const out = new PassThrough();
    const reading = readBundleEntries(out);
    await collectToBundle({
      spec: { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { hostCollectors: [{ cpu: {} }] } },
      destination: out,
      beforeFinalize: async () => ({ analysis: [{ name: 'cpu.cores', severity: 'debug' }] }),
    });
    const analysis = (await reading).find((e) => e.name.endsWith('/analysis.json'))!;
    expect(JSON.parse(analysis.content.toString())).toEqual([{ name: 'cpu.cores', severity: 'debug' }]);
  });

  it('throws a SpecError before writing anything for an invalid spec', async () => {
    const out = new PassThrough();
    let wrote = 0;
    out.on('data', (d: Buffer) => (wrote += d.length));
    await expect(
      collectToBundle({
        spec: 'apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec:\n  hostCollectors: [{ nope: {} }]\n',
        destination: out,
      }),
    ).rejects.toBeInstanceOf(SpecError);
    expect(wrote).toBe(0);
  });

  it('aborts the bundle when the run is cancelled', async () => {
    const controller = new AbortController();
    const registry = createDefaultRegistry().register(
      defineCollector({
        type: 'tcpLoadBalancer',
        scope: 'host',
        defaultTitle: 'x',
        collect: (ctx) => {
          controller.abort(new Error('cancelled by operator'));
          return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        },
      }),
    );
    const out = new PassThrough().resume();
    await expect(
      collectToBundle({
        spec: {
          apiVersion: 'troubleshoot.sh/v1beta2',
          kind: 'SupportBundle',
          spec: { hostCollectors: [{ tcpLoadBalancer: {} }, { cpu: {} }] },
        },
        destination: out,
        registry,
        signal: controller.signal,
        concurrency: 1,
      }),
    ).rejects.toThrow('cancelled by operator');
    expect(out.destroyed).toBe(true);
  });
});
