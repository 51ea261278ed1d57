import { chmodSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readBundleEntries } from '@cronbundle/bundle';
import { assertBuilt, REPO_ROOT, runBuiltApp } from '@cronbundle/testing';

const HOST_SPEC = join(REPO_ROOT, 'examples', 'specs', 'host.yaml');

/** Files of an archive relative to its single top folder (asserted to be `support-bundle-*`). */
async function bundleFiles(file: string): Promise<Map<string, Buffer>> {
  const entries = await readBundleEntries(createReadStream(file));
  const tops = new Set(entries.map((e) => e.name.split('/')[0]));
  expect([...tops]).toEqual([expect.stringMatching(/^support-bundle-\d{4}-\d\d-\d\dT\d\d_\d\d_\d\d$/)]);
  expect(entries.every((e) => e.type === 'file')).toBe(true);
  return new Map(entries.map((e) => [e.name.slice(e.name.indexOf('/') + 1), e.content]));
}

/** docs/COLLECTORS.md's layout table: collector type → documented paths (with `<name>`). */
function documentedLayout(): Map<string, string[]> {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'COLLECTORS.md'), 'utf8');
  const start = doc.indexOf('<!-- layout-table');
  expect(start).toBeGreaterThan(0);
  const layout = new Map<string, string[]>();
  for (const line of doc.slice(start).split('\n').slice(2)) {
    if (line.trim() === '') {
      if (layout.size > 0) break;
      continue;
    }
    const cells = line.split('|').map((c) => c.trim());
    const paths = [...(cells[2] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    if (cells[1] && paths.length > 0) layout.set(cells[1], paths);
  }
  return layout;
}

/** Per collector from summary.txt: `  <type> "<title>": N ms, ok|failed: …|skipped (…)`. */
function summaryStates(summary: string): { type: string; title: string; state: string }[] {
  return [...summary.matchAll(/^ {2}(\S+) "([^"]+)": \d+ ms, (ok|failed|skipped)/gm)].map((m) => ({
    type: m[1]!,
    title: m[2]!,
    state: m[3]!,
  }));
}

describe('cronbundle collect / validate (built CLI)', () => {
  let dir: string;
  const env = () => ({ HOME: dir, TZ: 'UTC' });

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'cronbundle-cli-collect-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('collects examples/specs/host.yaml into a bundle whose files are the documented layout', async () => {
    const out = join(dir, 'host.tar.gz');
    const res = await runBuiltApp('cli', ['collect', '--spec', HOST_SPEC, '-o', out], env(), 60_000);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(res.stdout).toMatch(
      new RegExp(`^${out}: \\d+ files, \\d+ bytes; collectors: 15 total, \\d+ failed, 0 skipped\\n$`),
    );
    // One progress line per collector.
    expect(res.stderr.match(/^\[\d+\/15\] /gm)).toHaveLength(15);
    expect(existsSync(`${out}.partial`)).toBe(false);

    const files = await bundleFiles(out);
    expect(parse(files.get('version.yaml')!.toString())).toMatchObject({
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { versionNumber: expect.any(String) },
    });
    expect(JSON.parse(files.get('analysis.json')!.toString())).toEqual([]);

    const layout = documentedLayout();
    const spec = parse(readFileSync(HOST_SPEC, 'utf8')) as { spec: { hostCollectors: Record<string, unknown>[] } };
    const states = summaryStates(files.get('execution-data/summary.txt')!.toString());
    expect(states).toHaveLength(spec.spec.hostCollectors.length);

    const required = new Set(['version.yaml', 'analysis.json', 'execution-data/summary.txt']);
    const allowed = new Set(required);
    spec.spec.hostCollectors.forEach((entry, i) => {
      const type = Object.keys(entry)[0]!;
      const body = (entry[type] ?? {}) as { collectorName?: string };
      const paths = layout.get(type);
      if (!paths) throw new Error(`docs/COLLECTORS.md documents no path for ${type}`);
      const state = states[i]!;
      expect(state.type).toBe(type);
      const expected = paths.map((p) => p.replace('<name>', body.collectorName ?? ''));
      for (const p of expected) allowed.add(p);
      if (state.state === 'ok') required.add(expected[0]!);
      else {
        // A failed collector leaves troubleshoot's error file instead (and maybe partial output).
        expect(state.state).toBe('failed');
        required.add(`host-collectors/errors/${state.title}-error.json`);
        allowed.add(`host-collectors/errors/${state.title}-error.json`);
      }
    });
    const names = [...files.keys()];
    for (const path of required) expect(names).toContain(path);
    expect(names.filter((n) => !allowed.has(n))).toEqual([]);
    const cpu = JSON.parse(files.get('host-collectors/system/cpu.json')!.toString());
    expect(cpu).toEqual(expect.objectContaining({ logicalCount: expect.any(Number), machineArch: expect.any(String) }));
  });

  it('a spec with broken collectors still yields a bundle holding their error files', async () => {
    const specFile = join(dir, 'broken.yaml');
    writeFileSync(
      specFile,
      [
        'apiVersion: troubleshoot.sh/v1beta2',
        'kind: SupportBundle',
        'spec:',
        '  hostCollectors:',
        '    - cpu: {}',
        '    - diskUsage: { collectorName: broken-ref, path: "${env:CRONBUNDLE_E2E_NOT_SET}" }',
        '    - run: { collectorName: broken-run, command: /nonexistent/cronbundle-e2e-command }',
        '    - memory: {}',
      ].join('\n'),
    );
    const out = join(dir, 'broken.tar.gz');
    const res = await runBuiltApp('cli', ['collect', '--spec', specFile, '-o', out, '--no-redact'], env(), 30_000);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('collectors: 4 total, 2 failed, 0 skipped');
    expect(res.stderr).toMatch(/diskUsage "broken-ref" failed \(\d+ ms\): environment variable CRONBUNDLE_E2E_NOT_SET/);
    expect(res.stderr).not.toContain('NOT redacted'); // --no-redact silences the notice
    const files = await bundleFiles(out);
    expect(JSON.parse(files.get('host-collectors/errors/broken-ref-error.json')!.toString())).toEqual({
      collector: 'broken-ref',
      error: 'environment variable CRONBUNDLE_E2E_NOT_SET is not set',
      timestamp: expect.any(String),
    });
    expect(JSON.parse(files.get('host-collectors/errors/broken-run-error.json')!.toString()).error).toMatch(/ENOENT/);
    expect(files.has('host-collectors/system/cpu.json')).toBe(true);
    expect(files.has('host-collectors/system/memory.json')).toBe(true);
  });

  it('refuses an invalid spec with exit 2, naming the path, and writes no archive', async () => {
    const specFile = join(dir, 'invalid.yaml');
    writeFileSync(
      specFile,
      'apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec:\n  hostCollectors:\n    - cpu: {}\n    - tcpPortStatus: { port: 80, bogus: 1 }\n    - teleport: {}\n',
    );
    const out = join(dir, 'invalid.tar.gz');
    const res = await runBuiltApp('cli', ['collect', '--spec', specFile, '-o', out], env());
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`cronbundle collect: ${specFile}: invalid spec (2 problems)`);
    expect(res.stderr).toContain('  spec.hostCollectors[1].tcpPortStatus.bogus: unknown field');
    expect(res.stderr).toContain('  spec.hostCollectors[2].teleport: unknown host collector type "teleport"');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);

    const missing = await runBuiltApp('cli', ['collect', '--spec', join(dir, 'nope.yaml'), '-o', out], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`cronbundle collect: ${join(dir, 'nope.yaml')}: no such file\n`);
  });

  it('validate parses only: exit 0 for a valid spec, 2 naming the path for a bad one', async () => {
    const ok = await runBuiltApp('cli', ['validate', '--spec', HOST_SPEC], env());
    expect(ok).toEqual({
      code: 0,
      stdout: `${HOST_SPEC}: valid (15 host collectors, 0 collectors, 6 analyzers, 0 redactors)\n`,
      stderr: '',
    });
    const bad = join(dir, 'bad-port.yaml');
    writeFileSync(
      bad,
      'apiVersion: troubleshoot.sh/v1beta2\nkind: HostCollector\nspec:\n  collectors:\n    - tcpPortStatus: { port: eighty }\n',
    );
    const res = await runBuiltApp('cli', ['validate', bad, '--spec', HOST_SPEC], env());
    expect(res.code).toBe(2);
    expect(res.stdout).toContain(`${HOST_SPEC}: valid`);
    expect(res.stderr).toMatch(
      new RegExp(`^cronbundle validate: ${bad}: spec\\.collectors\\[0\\]\\.tcpPortStatus\\.port: .*number`),
    );
  });

  it('stops collecting at --max-bundle-bytes, records what was cut, and still writes the bundle', async () => {
    const out = join(dir, 'small.tar.gz');
    const res = await runBuiltApp(
      'cli',
      ['collect', '--spec', HOST_SPEC, '-o', out, '--max-bundle-bytes', '2048', '--no-redact'],
      env(),
      60_000,
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('bundle size limit of 2048 bytes reached');
    const files = await bundleFiles(out);
    const limits = JSON.parse(files.get('execution-data/limits.json')!.toString());
    expect(limits).toMatchObject({ maxBundleBytes: 2048, exhausted: true });
    expect(limits.truncatedCollectors.length + limits.skippedCollectors.length).toBeGreaterThan(0);
    for (const label of limits.truncatedCollectors as string[])
      expect(res.stderr).toMatch(
        new RegExp(`${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ok \\(\\d+ ms\\), output truncated`),
      );
    const collected = [...files.entries()].filter(
      ([p]) =>
        ![
          'version.yaml',
          'analysis.json',
          'execution-data/summary.txt',
          'execution-data/limits.json',
          'skipped-collectors.json',
        ].includes(p),
    );
    expect(collected.reduce((n, [, c]) => n + c.length, 0)).toBeLessThanOrEqual(2048);
    if (limits.skippedCollectors.length > 0) {
      const skipped = JSON.parse(files.get('skipped-collectors.json')!.toString()) as { reason: string }[];
      expect(skipped.map((s) => s.reason)).toContain('bundle size limit (maxBundleBytes) reached');
    }
  });

  describe('external mode (troubleshoot support-bundle from PATH)', () => {
    const externalSpec = () => {
      const file = join(dir, 'external.yaml');
      writeFileSync(
        file,
        'apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec:\n  external: true\n  hostCollectors:\n    - cpu: {}\n',
      );
      return file;
    };

    it('fails with the install command when support-bundle is not on PATH, writing nothing', async () => {
      const emptyBin = mkdtempSync(join(dir, 'empty-bin-'));
      const out = join(dir, 'external-missing.tar.gz');
      const res = await runBuiltApp('cli', ['collect', '--spec', externalSpec(), '-o', out], {
        ...env(),
        PATH: emptyBin,
      });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("external mode needs troubleshoot's `support-bundle` binary, which is not on PATH");
      expect(res.stderr).toContain('install');
      expect(existsSync(out)).toBe(false);
      expect(existsSync(`${out}.partial`)).toBe(false);
    });

    it("runs the support-bundle found on PATH and takes its archive's files", async () => {
      const bin = mkdtempSync(join(dir, 'bin-'));
      const script = join(bin, 'support-bundle');
      // A stand-in for troubleshoot's CLI: checks its arguments, writes an archive like troubleshoot's.
      writeFileSync(
        script,
        [
          '#!/bin/sh',
          'set -e',
          'spec="$1"; [ "$2" = "--interactive=false" ] && [ "$3" = "--output" ] || { echo "bad args: $*" >&2; exit 9; }',
          'grep -q "cpu: {}" "$spec" || { echo "spec lacks cpu" >&2; exit 8; }',
          'grep -q "external" "$spec" && { echo "spec still says external" >&2; exit 7; }',
          'work=$(mktemp -d)',
          'top="$work/support-bundle-2026-01-02T03_04_05"',
          'mkdir -p "$top/host-collectors/system"',
          'printf "apiVersion: troubleshoot.sh/v1beta2\\nkind: SupportBundle\\nspec:\\n  versionNumber: v0.0.0-fake\\n" > "$top/version.yaml"',
          'printf \'{"logicalCount":2,"physicalCount":1,"flags":[],"machineArch":"x86_64"}\' > "$top/host-collectors/system/cpu.json"',
          'cp "$spec" "$top/spec-seen.yaml"',
          'echo "collecting cpu"',
          '(cd "$work" && tar czf "$4" support-bundle-2026-01-02T03_04_05)',
          'rm -rf "$work"',
        ].join('\n') + '\n',
      );
      chmodSync(script, 0o755);
      const out = join(dir, 'external.tar.gz');
      const res = await runBuiltApp(
        'cli',
        ['collect', '--spec', externalSpec(), '-o', out, '--no-redact'],
        { ...env(), PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
        30_000,
      );
      expect({ code: res.code, stderr: res.stderr }).toEqual({
        code: 0,
        stderr: expect.stringMatching(/\[1\/1\] support-bundle "support-bundle" ok/),
      });
      expect(res.stdout).toContain('collectors: 1 total, 0 failed, 0 skipped');
      const files = await bundleFiles(out);
      expect(JSON.parse(files.get('host-collectors/system/cpu.json')!.toString())).toEqual({
        logicalCount: 2,
        physicalCount: 1,
        flags: [],
        machineArch: 'x86_64',
      });
      // Our version.yaml, not the external one; the spec handed over was a plain SupportBundle.
      expect(files.get('version.yaml')!.toString()).not.toContain('v0.0.0-fake');
      expect(parse(files.get('spec-seen.yaml')!.toString())).toEqual({
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'SupportBundle',
        metadata: { name: 'cronbundle' },
        spec: { hostCollectors: [{ cpu: {} }] },
      });
      expect(files.get('execution-data/summary.txt')!.toString()).toContain('support-bundle "support-bundle"');
    });
  });
});
