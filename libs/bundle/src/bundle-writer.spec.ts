import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { parse as parseYaml } from 'yaml';
import { BundleWriter } from './bundle-writer';
import { bundleFolderName } from './bundle-name';
import { readBundleEntries } from './bundle-reader';

describe('BundleWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bundle-spec-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const at = new Date('2026-11-22T02:03:04.567Z');

  it('names the top folder like troubleshoot (UTC, underscores)', () => {
    expect(bundleFolderName(at)).toBe('support-bundle-2026-11-22T02_03_04');
  });

  it('writes a readable tar.gz with version.yaml, analysis.json and every entry under one folder', async () => {
    const file = join(dir, 'b.tar.gz');
    const writer = new BundleWriter({
      destination: createWriteStream(file),
      now: at,
      versionNumber: '0.1.0',
      tmpDir: dir,
    });
    await Promise.all([
      writer.addFile('host-collectors/system/memory.json', '{"total":1}'),
      writer.addJson('host-collectors/system/cpu.json', { logicalCount: 2 }),
      writer.addStream('logs/known.txt', Readable.from([Buffer.from('hello '), Buffer.from('world')]), 11),
      writer.addStream('logs/unknown.txt', Readable.from([Buffer.from('spooled '), Buffer.from('content')])),
      writer.addStream('logs/empty.txt', Readable.from([]), undefined, { omitIfEmpty: true }),
    ]);
    const summary = await writer.finalize();

    const bytes = await readFile(file);
    expect(summary.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(summary.sizeBytes).toBe(bytes.length);
    expect(summary.truncated).toEqual([]);

    const entries = await readBundleEntries(createReadStream(file));
    const root = 'support-bundle-2026-11-22T02_03_04';
    const byName = new Map(entries.map((e) => [e.name, e.content.toString('utf8')]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'analysis.json',
        'host-collectors/system/cpu.json',
        'host-collectors/system/memory.json',
        'logs/known.txt',
        'logs/unknown.txt',
        'version.yaml',
      ].map((p) => `${root}/${p}`),
    );
    expect(summary.files).toBe(6);
    expect(entries.every((e) => e.type === 'file')).toBe(true);
    expect(parseYaml(byName.get(`${root}/version.yaml`)!)).toEqual({
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { versionNumber: '0.1.0' },
    });
    expect(JSON.parse(byName.get(`${root}/analysis.json`)!)).toEqual([]);
    expect(JSON.parse(byName.get(`${root}/host-collectors/system/cpu.json`)!)).toEqual({ logicalCount: 2 });
    expect(byName.get(`${root}/logs/known.txt`)).toBe('hello world');
    expect(byName.get(`${root}/logs/unknown.txt`)).toBe('spooled content');
    const contentBytes = entries.reduce((n, e) => n + e.content.length, 0);
    expect(summary.uncompressedBytes).toBe(contentBytes);
    // the spool directory is gone
    expect((await readdir(dir)).filter((f) => f.startsWith('cronbundle-spool-'))).toEqual([]);
  });

  it('writes the given analysis and relative symlinks', async () => {
    const out = new PassThrough();
    const read = readBundleEntries(out);
    const writer = new BundleWriter({ destination: out, name: 'support-bundle-x' });
    await writer.addFile('cluster-resources/pods/logs/ns/p/c.log', 'log');
    await writer.addSymlink('mylogs/p/c.log', '../../cluster-resources/pods/logs/ns/p/c.log');
    await expect(writer.addSymlink('evil', '../../../etc/passwd')).rejects.toThrow(/\.\./);
    await writer.finalize({ analysis: [{ name: 'x', severity: 'warn' }] });
    const entries = await read;
    const link = entries.find((e) => e.name === 'support-bundle-x/mylogs/p/c.log');
    expect(link).toMatchObject({ type: 'symlink', linkname: '../../cluster-resources/pods/logs/ns/p/c.log' });
    const analysis = entries.find((e) => e.name === 'support-bundle-x/analysis.json');
    expect(JSON.parse(analysis!.content.toString())).toEqual([{ name: 'x', severity: 'warn' }]);
  });

  it('refuses unsafe and duplicate paths', async () => {
    const writer = new BundleWriter({ destination: new PassThrough().resume() });
    await expect(writer.addFile('../etc/x', 'a')).rejects.toThrow(/\.\./);
    await expect(writer.addFile('/abs', 'a')).rejects.toThrow(/relative/);
    await writer.addFile('a/b.txt', 'a');
    await expect(writer.addFile('./a//b.txt', 'b')).rejects.toThrow(/duplicate/);
    await expect(writer.addFile('version.yaml', 'b')).rejects.toThrow(/duplicate/);
    await writer.finalize();
  });

  it('enforces maxBytes: whole files are refused, streams are cut, and both are recorded', async () => {
    const out = new PassThrough();
    const read = readBundleEntries(out);
    const writer = new BundleWriter({ destination: out, name: 'support-bundle-t', maxBytes: 100, tmpDir: dir });
    expect((await writer.addFile('a.txt', 'x'.repeat(60))).written).toBe(true);
    expect(await writer.addFile('b.txt', 'y'.repeat(60))).toMatchObject({ written: false, truncated: true });
    expect(await writer.addStream('c.txt', Readable.from([Buffer.from('z'.repeat(80))]), 80)).toMatchObject({
      bytes: 40,
      truncated: true,
    });
    expect(await writer.addStream('d.txt', Readable.from([Buffer.from('w'.repeat(10))]))).toMatchObject({
      written: false,
      truncated: true,
    });
    expect(await writer.addFile('e.txt', '')).toMatchObject({ written: true });
    const summary = await writer.finalize();
    expect(summary.truncated).toEqual(['b.txt', 'c.txt', 'd.txt']);
    const names = (await read).map((e) => e.name.replace('support-bundle-t/', '')).sort();
    expect(names).toEqual(['a.txt', 'analysis.json', 'c.txt', 'e.txt', 'version.yaml']);
    expect((await read).find((e) => e.name.endsWith('c.txt'))!.content.toString()).toBe('z'.repeat(40));
  });

  it('cuts a spooled stream at the budget without spooling the rest', async () => {
    const out = new PassThrough();
    const read = readBundleEntries(out);
    const writer = new BundleWriter({ destination: out, name: 'support-bundle-s', maxBytes: 1000, tmpDir: dir });
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 100;
        this.push(Buffer.alloc(100, 'q'));
      },
    });
    const result = await writer.addStream('big.log', endless);
    expect(result).toMatchObject({ bytes: 1000, truncated: true });
    expect(endless.destroyed).toBe(true);
    expect(produced).toBeLessThan(100_000);
    await writer.finalize();
    expect((await read).find((e) => e.name.endsWith('big.log'))!.content.length).toBe(1000);
  });

  it('keeps the archive valid when a sized stream ends early or fails', async () => {
    const out = new PassThrough();
    const read = readBundleEntries(out);
    const writer = new BundleWriter({ destination: out, name: 'support-bundle-e' });
    await expect(writer.addStream('short.txt', Readable.from([Buffer.from('abc')]), 10)).rejects.toThrow(
      /ended after 3 of 10/,
    );
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await expect(writer.addStream('failing.txt', failing, 5)).rejects.toThrow(/disk on fire/);
    await writer.addFile('after.txt', 'still fine');
    await writer.finalize();
    const entries = await read;
    expect(entries.find((e) => e.name.endsWith('short.txt'))!.content).toEqual(
      Buffer.concat([Buffer.from('abc'), Buffer.alloc(7)]),
    );
    expect(entries.find((e) => e.name.endsWith('after.txt'))!.content.toString()).toBe('still fine');
  });

  it('fails adds and finalize when the destination fails', async () => {
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('no space left'));
      },
    });
    const writer = new BundleWriter({ destination: broken });
    await writer.addFile('a.txt', 'x'.repeat(200_000)).catch(() => undefined);
    await expect(writer.finalize()).rejects.toThrow(/no space left/);
  });

  it('streams a 200 MiB unknown-size and a 64 MiB known-size entry with flat memory', async () => {
    const MiB = 1024 * 1024;
    const block = Buffer.alloc(64 * 1024);
    for (let i = 0; i < block.length; i++) block[i] = (i * 31) % 251;
    const generate = (size: number) => {
      let sent = 0;
      const hash = createHash('sha256');
      const stream = new Readable({
        read() {
          if (sent >= size) return this.push(null);
          const chunk = Buffer.from(block);
          chunk.writeUInt32LE(sent, 0); // every chunk differs
          sent += chunk.length;
          hash.update(chunk);
          this.push(chunk);
        },
      });
      return { stream, digest: () => hash.digest('hex') };
    };

    // Read the archive back while it is written: sizes and content hashes of each entry.
    const out = new PassThrough();
    const extract = tar.extract();
    const seen = new Map<string, { size: number; sha: string }>();
    const reading = (async () => {
      out.pipe(createGunzip()).pipe(extract as unknown as NodeJS.WritableStream);
      for await (const entry of extract) {
        const h = createHash('sha256');
        let n = 0;
        for await (const chunk of entry) {
          n += (chunk as Buffer).length;
          h.update(chunk as Buffer);
        }
        seen.set(entry.header.name, { size: n, sha: h.digest('hex') });
      }
    })();

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const writer = new BundleWriter({ destination: out, name: 'support-bundle-big', gzipLevel: 1, tmpDir: dir });
      const spooled = generate(200 * MiB);
      const direct = generate(64 * MiB);
      await writer.addStream('spooled.bin', spooled.stream);
      await writer.addStream('direct.bin', direct.stream, 64 * MiB);
      const summary = await writer.finalize();
      await reading;
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(summary.uncompressedBytes).toBeGreaterThanOrEqual(264 * MiB);
      expect(seen.get('support-bundle-big/spooled.bin')).toEqual({ size: 200 * MiB, sha: spooled.digest() });
      expect(seen.get('support-bundle-big/direct.bin')).toEqual({ size: 64 * MiB, sha: direct.digest() });
    } finally {
      clearInterval(sampler);
    }
    expect(peak - baseline).toBeLessThan(100 * MiB);
    // the spool file was removed
    await expect(stat(join(dir, 'spooled.bin'))).rejects.toThrow();
  }, 60_000);
});
