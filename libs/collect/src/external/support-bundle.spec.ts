import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { readBundleEntries } from '@cronbundle/bundle';
import { collectToBundle } from '../collect-to-bundle';
import { SupportBundleNotInstalledError, findExecutable } from './support-bundle';

const SPEC = {
  apiVersion: 'troubleshoot.sh/v1beta2',
  kind: 'SupportBundle',
  spec: { external: true, hostCollectors: [{ tcpConnect: { address: 'db:${env:DB_PORT}' } }] },
};

/** Collect into memory; resolves with the archive's files (top folder stripped). */
async function collect(options: Partial<Parameters<typeof collectToBundle>[0]>) {
  const destination = new PassThrough();
  const entries = readBundleEntries(destination);
  const result = await collectToBundle({ spec: SPEC, destination, allowRun: true, ...options });
  const files = new Map((await entries).map((e) => [e.name.slice(e.name.indexOf('/') + 1), e.content.toString()]));
  return { result, files };
}

describe('external mode (support-bundle as a real child process)', () => {
  let dir: string;
  const script = (name: string, body: string[]) => {
    const bin = mkdtempSync(join(dir, `${name}-`));
    writeFileSync(join(bin, 'support-bundle'), ['#!/bin/sh', ...body].join('\n') + '\n');
    chmodSync(join(bin, 'support-bundle'), 0o755);
    return bin;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cronbundle-external-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('findExecutable looks along PATH and wants an executable file', async () => {
    const bin = script('find', ['exit 0']);
    await expect(findExecutable('support-bundle', `/nonexistent:${bin}`)).resolves.toBe(join(bin, 'support-bundle'));
    chmodSync(join(bin, 'support-bundle'), 0o644);
    await expect(findExecutable('support-bundle', bin)).resolves.toBeUndefined();
    await expect(findExecutable('support-bundle', '')).resolves.toBeUndefined();
  });

  it('throws SupportBundleNotInstalledError before writing anything when the binary is missing', async () => {
    const destination = new PassThrough();
    let wrote = 0;
    destination.on('data', (c: Buffer) => (wrote += c.length));
    const err = await collectToBundle({
      spec: SPEC,
      destination,
      allowRun: true,
      env: { PATH: join(dir, 'empty') },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SupportBundleNotInstalledError);
    expect((err as Error).message).toMatch(/not on PATH.*install/);
    expect(wrote).toBe(0);
  });

  it('refuses external mode unless run collectors are allowed (COLLECT_ALLOW_RUN), before writing', async () => {
    const bin = script('never', ['touch "$0.ran"']);
    const destination = new PassThrough();
    let wrote = 0;
    destination.on('data', (c: Buffer) => (wrote += c.length));
    await expect(collectToBundle({ spec: SPEC, destination, env: { PATH: bin } })).rejects.toThrow(
      /external mode .* needs allowRun \(COLLECT_ALLOW_RUN=true on the worker\)/,
    );
    expect(wrote).toBe(0);
    expect(existsSync(join(bin, 'support-bundle.ran'))).toBe(false);
  });

  it('imports the archive the binary writes, with references resolved in the spec it is given', async () => {
    const bin = script('ok', [
      'set -e',
      'work=$(mktemp -d)',
      'mkdir -p "$work/support-bundle-x/host-collectors/connect"',
      'printf "v" > "$work/support-bundle-x/version.yaml"',
      'cp "$1" "$work/support-bundle-x/spec.yaml"',
      'printf \'{"status":"connected","message":""}\' > "$work/support-bundle-x/host-collectors/connect/connect.json"',
      '(cd "$work" && tar czf "$4" support-bundle-x)',
      'rm -rf "$work"',
    ]);
    const events: string[] = [];
    const { result, files } = await collect({
      env: { PATH: `${bin}:/usr/bin:/bin`, DB_PORT: '5432' },
      resolver: { resolve: async (ref) => (ref.name === 'DB_PORT' ? '5432' : '') },
      onProgress: (e) => events.push(e.type),
      tmpDir: dir,
    });
    expect(result.collectors).toEqual({
      total: 1,
      failed: 0,
      skipped: 0,
      results: [{ type: 'support-bundle', scope: 'host', name: 'support-bundle', ms: expect.any(Number) }],
    });
    expect(events).toEqual(expect.arrayContaining(['collector:start', 'collector:end']));
    expect(files.get('host-collectors/connect/connect.json')).toBe('{"status":"connected","message":""}');
    expect(files.get('spec.yaml')).toContain('address: db:5432');
    expect(files.get('spec.yaml')).not.toContain('external');
    expect(files.get('version.yaml')).toContain('troubleshoot.sh/v1beta2');
    expect(files.get('execution-data/summary.txt')).toContain('support-bundle "support-bundle"');
  });

  it('a failing support-bundle leaves its error file and the bundle is still written', async () => {
    const bin = script('fail', ['echo "cluster unreachable" >&2', 'exit 3']);
    const { result, files } = await collect({
      env: { PATH: bin },
      resolver: { resolve: async () => '5432' },
      tmpDir: dir,
    });
    expect(result.collectors.failed).toBe(1);
    const error = JSON.parse(files.get('host-collectors/errors/support-bundle-error.json')!);
    expect(error).toEqual({
      collector: 'support-bundle',
      error: 'support-bundle exited with 3: cluster unreachable',
      timestamp: expect.any(String),
    });
  });

  it('the job-level switch (options.external) works on a spec without external: true', async () => {
    const bin = script('job', [
      'work=$(mktemp -d)',
      'mkdir -p "$work/t"',
      'printf "[]" > "$work/t/analysis.json"',
      '(cd "$work" && tar czf "$4" t)',
    ]);
    const { result, files } = await collect({
      spec: { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { hostCollectors: [{ cpu: {} }] } },
      external: true,
      env: { PATH: `${bin}:/usr/bin:/bin` },
      tmpDir: dir,
    });
    expect(result.collectors.failed).toBe(0);
    expect(files.has('host-collectors/system/cpu.json')).toBe(false); // cronbundle's collectors did not run
    expect(files.get('analysis.json')).toBe('[]');
  });
});
