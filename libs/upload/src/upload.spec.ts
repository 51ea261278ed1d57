import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileUploader } from './file.uploader';
import { bundleObjectName } from './object-name';
import { Uploaders } from './uploaders';

describe('bundle object names', () => {
  it('follow <jobId>/<jobId>-<slot UTC>-<executionId>.tar.gz', () => {
    expect(bundleObjectName('daily-check', Date.UTC(2026, 10, 22, 2, 0, 0, 123), '01JABC')).toBe(
      'daily-check/daily-check-2026-11-22T02-00-00Z-01JABC.tar.gz',
    );
  });
});

describe('FileUploader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cronbundle-upload-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates directories and leaves only the complete object (no temp files)', async () => {
    const src = join(dir, 'src.tar.gz');
    await writeFile(src, 'bundle-bytes');
    const dest = pathToFileURL(join(dir, 'out', 'nested')).href;
    const result = await new Uploaders().upload({ file: src, destination: dest, objectName: 'job/job-x.tar.gz' });
    const target = join(dir, 'out', 'nested', 'job', 'job-x.tar.gz');
    expect(result.url).toBe(pathToFileURL(target).href);
    expect(await readFile(target, 'utf8')).toBe('bundle-bytes');
    expect(await readdir(join(dir, 'out', 'nested', 'job'))).toEqual(['job-x.tar.gz']);
  });

  it('removes its temp file when the copy fails and refuses names escaping the destination', async () => {
    const dest = pathToFileURL(join(dir, 'out')).href + '/';
    await expect(
      new FileUploader().upload({ file: join(dir, 'missing'), destination: dest, objectName: 'a/b.tar.gz' }),
    ).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(dir, 'out', 'a'))).toEqual([]);
    await expect(
      new FileUploader().upload({ file: join(dir, 'missing'), destination: dest, objectName: '../x.tar.gz' }),
    ).rejects.toThrow(/escapes/);
  });

  it('an unknown scheme is an error naming the supported ones', async () => {
    await expect(new Uploaders().upload({ file: 'x', destination: 'ftp://h/p', objectName: 'a' })).rejects.toThrow(
      /no uploader for ftp: destinations \(supported: file:\)/,
    );
  });
});
