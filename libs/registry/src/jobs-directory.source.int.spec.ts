import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix, waitFor } from '@cronbundle/testing';
import { JobRegistry } from './job-registry';
import { DirectorySyncReport, JobsDirectorySource } from './jobs-directory.source';

const TWO_DOCS = `
id: nightly
name: Nightly
schedule: { cron: "0 2 * * *" }
---
id: hourly
schedule:
  cron: "@hourly"
  timezone: Europe/London
`;
const A_LIST = `
- id: list-one
  schedule: { cron: "*/5 * * * *" }
- id: list-two
  schedule: { cron: "0 0 * * MON" }
  labels: { team: sre }
`;
const BAD = `
id: broken
schedule: { cron: "61 * * * *" }
upload: { url: "https://user:pw@example.com/in" }
---
- id: fine-in-bad-file
  schedule: { cron: "@daily" }
- id: Bad_Id
  schedule: { cron: "@daily" }
`;

describe('JobsDirectorySource with a temp dir and real Redis', () => {
  let redis: Redis;
  let registry: JobRegistry;
  let dir: string;
  let source: JobsDirectorySource | undefined;
  const prefix = testPrefix();
  const reports: DirectorySyncReport[] = [];

  beforeAll(() => {
    redis = connectTestRedis();
    registry = new JobRegistry(redis, new RedisKeys(prefix), { defaultTimezone: 'America/New_York' });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cronbundle-jobs-'));
    reports.length = 0;
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await rm(dir, { recursive: true, force: true });
    await deletePrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  const ids = async () => (await registry.list({ limit: 100 })).items.map((j) => j.id);
  const make = (rescanIntervalMs = 0, watch = true) =>
    new JobsDirectorySource({
      dir,
      watch,
      sink: registry,
      defaultTimezone: 'America/New_York',
      rescanIntervalMs,
      debounceMs: 20,
      onSync: (r) => reports.push(r),
    });

  it('loads every yaml/yml file, several definitions per file, and reports bad ones by file and path', async () => {
    await writeFile(join(dir, 'a.yaml'), TWO_DOCS);
    await writeFile(join(dir, 'b.yml'), A_LIST);
    await writeFile(join(dir, 'c-bad.yaml'), BAD);
    await writeFile(join(dir, 'notes.txt'), 'not yaml: [');
    source = make();
    const report = await source.sync();

    expect(report.files).toEqual(['a.yaml', 'b.yml', 'c-bad.yaml']);
    expect(await ids()).toEqual(['hourly', 'list-one', 'list-two', 'nightly']);
    expect(await registry.get('nightly')).toMatchObject({ source: 'file', schedule: { timezone: 'America/New_York' } });
    expect(await registry.get('hourly')).toMatchObject({ schedule: { timezone: 'Europe/London' } });
    expect(report.errors).toEqual(
      expect.arrayContaining([
        { file: 'c-bad.yaml', document: 1, path: 'schedule.cron', message: expect.stringMatching(/invalid cron/) },
        { file: 'c-bad.yaml', document: 1, path: 'upload.url', message: expect.stringMatching(/credentials/) },
        { file: 'c-bad.yaml', document: 2, path: '[1].id', message: expect.stringMatching(/lower-case/) },
      ]),
    );
    // A file with any error contributes nothing on a first read, not even its good documents.
    expect(await ids()).not.toContain('fine-in-bad-file');
  });

  it('a YAML syntax error keeps the file at its last good content; duplicates across files are reported', async () => {
    await writeFile(join(dir, 'a.yaml'), TWO_DOCS);
    source = make();
    await source.sync();
    await writeFile(join(dir, 'a.yaml'), 'id: nightly\nschedule: { cron: "0 2 * * *"\n  broken: [');
    await writeFile(join(dir, 'b.yaml'), 'id: nightly\nschedule: { cron: "0 5 * * *" }\n');
    const report = await source.sync();
    expect(report.errors.find((e) => e.file === 'a.yaml')).toMatchObject({
      document: 1,
      message: expect.stringMatching(/^YAML/),
    });
    expect(report.errors).toContainEqual({
      file: 'b.yaml',
      path: 'id',
      message: expect.stringMatching(/already defined in a.yaml/),
    });
    expect(await ids()).toEqual(['hourly', 'nightly']);
    expect((await registry.get('nightly')).schedule.cron).toBe('0 2 * * *');
  });

  it('re-syncs on change through fs.watch: edits, new files and removals', async () => {
    await writeFile(join(dir, 'a.yaml'), TWO_DOCS);
    source = make();
    await source.start();
    expect(await ids()).toEqual(['hourly', 'nightly']);

    await writeFile(join(dir, 'a.yaml'), TWO_DOCS.replace('0 2 * * *', '30 3 * * *'));
    await waitFor(async () => (await registry.get('nightly')).schedule.cron === '30 3 * * *', {
      what: 'the edit to sync',
    });
    expect((await registry.get('nightly')).version).toBe(2);

    await writeFile(join(dir, 'b.yml'), A_LIST);
    await waitFor(async () => (await ids()).length === 4, { what: 'the new file to sync' });

    await unlink(join(dir, 'a.yaml'));
    await waitFor(async () => (await ids()).join() === 'list-one,list-two', { what: 'the removal to sync' });
  });

  it('the periodic rescan picks up changes without fs.watch', async () => {
    source = make(100, false);
    await source.start();
    const before = reports.length;
    await writeFile(join(dir, 'late.yaml'), 'id: late\nschedule: { cron: "@daily" }\n');
    await waitFor(async () => (await ids()).includes('late'), { what: 'late.yaml to sync' });
    await waitFor(() => reports.length >= before + 3, { what: 'several rescans', timeoutMs: 5000 });
    expect(reports.at(-1)!.sync).toMatchObject({ created: [], updated: [], deleted: [] });
  });
});
