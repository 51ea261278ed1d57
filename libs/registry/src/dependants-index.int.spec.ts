import type { Redis } from 'ioredis';
import { JobDefinition, JobDefinitionSpec, parseJobDefinition, PreconditionFailedError } from '@cronbundle/core';
import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix } from '@cronbundle/testing';
import { JobRegistry } from './job-registry';

const job = (id: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}) => ({
  id,
  schedule: { cron: '0 2 * * *' },
  dependsOn,
  ...extra,
});

describe('JobRegistry dependants index (P:job:<id>:dependants) against real Redis', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let registry: JobRegistry;
  const prefix = testPrefix();

  beforeAll(() => {
    redis = connectTestRedis();
    keys = new RedisKeys(prefix);
    registry = new JobRegistry(redis, keys);
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  /** Every dependants set under the prefix, as dep -> sorted ids. */
  async function indexState(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.jobPrefix}*:dependants`, 'COUNT', 1000);
      cursor = next;
      for (const key of found) {
        const dep = key.slice(keys.jobPrefix.length, -':dependants'.length);
        out[dep] = (await redis.smembers(key)).sort();
      }
    } while (cursor !== '0');
    return out;
  }

  /** What the index must be, computed from the stored records. */
  async function expectedFromRecords(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (let cursor: string | null | undefined; ;) {
      const page = await registry.list({ limit: 1000, cursor });
      for (const j of page.items) for (const d of j.dependsOn) (out[d] ??= []).push(j.id);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    for (const d of Object.keys(out)) out[d].sort();
    return out;
  }

  async function expectIndexMatchesRecords(): Promise<void> {
    expect(await indexState()).toEqual(await expectedFromRecords());
  }

  it('follows create, createMany, patch of dependsOn, enable/disable and delete', async () => {
    await registry.create(job('root'));
    await registry.create(job('a', ['root']));
    await registry.create(job('b', ['root', 'other']));
    await registry.createMany([job('c', ['a']), job('d', ['root', 'a'])]);
    expect(await registry.dependantsOf('root')).toEqual(['a', 'b', 'd']);
    expect(await registry.dependantsOf('a')).toEqual(['c', 'd']);
    expect(await registry.dependantsOf('other')).toEqual(['b']);
    expect(await registry.dependantsOf('c')).toEqual([]);

    // dependsOn replaced whole: drops root, keeps other, adds a
    await registry.update('b', { dependsOn: ['other', 'a'] });
    expect(await registry.dependantsOf('root')).toEqual(['a', 'd']);
    expect(await registry.dependantsOf('a')).toEqual(['b', 'c', 'd']);
    expect(await registry.dependantsOf('other')).toEqual(['b']);

    // A patch that does not touch dependsOn, and enable/disable, leave the index alone.
    await registry.update('d', { name: 'renamed' });
    await registry.setEnabled('d', false);
    expect(await registry.dependantsOf('root')).toEqual(['a', 'd']);

    await registry.update('b', { dependsOn: [] });
    expect(await registry.dependantsOf('other')).toEqual([]);
    expect(await redis.exists(keys.jobDependants('other'))).toBe(0);

    await registry.delete('d');
    expect(await registry.dependantsOf('root')).toEqual(['a']);
    expect(await registry.dependantsOf('a')).toEqual(['c']);
    // Deleting a job others depend on keeps their entries: they still name it in dependsOn.
    await registry.delete('a');
    expect(await registry.dependantsOf('a')).toEqual(['c']);
    expect(await registry.dependantsOf('root')).toEqual([]);
    await expectIndexMatchesRecords();
  });

  it('a refused write (stale version, duplicate id) leaves the index unchanged', async () => {
    await registry.create(job('x', ['p']));
    await expect(registry.create(job('x', ['q']))).rejects.toMatchObject({ reason: 'exists' });
    await expect(registry.update('x', { dependsOn: ['q'] }, { expectedVersion: 7 })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await expect(registry.delete('x', { expectedVersion: 3 })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await indexState()).toEqual({ p: ['x'] });
  });

  it('follows the file-job sync: created, changed and removed files', async () => {
    const def = (id: string, dependsOn: string[] = []): JobDefinitionSpec => parseJobDefinition(job(id, dependsOn));
    await registry.syncFileJobs([def('f-root'), def('f-a', ['f-root']), def('f-b', ['f-root', 'f-a'])]);
    expect(await registry.dependantsOf('f-root')).toEqual(['f-a', 'f-b']);
    expect(await registry.dependantsOf('f-a')).toEqual(['f-b']);

    await registry.syncFileJobs([def('f-root'), def('f-a'), def('f-b', ['f-a']), def('f-c', ['f-root'])]);
    expect(await registry.dependantsOf('f-root')).toEqual(['f-c']);
    expect(await registry.dependantsOf('f-a')).toEqual(['f-b']);
    await expectIndexMatchesRecords();

    await registry.syncFileJobs([def('f-root')]);
    expect(await indexState()).toEqual({});
  });

  it('stays exact under concurrent edits of the same and of different jobs', async () => {
    const deps = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'];
    await registry.create(job('target', ['d0']));
    // Same job, 10 last-writer-wins updates racing (each re-reads and retries on a version clash;
    // one wins per round, so 10 always land within update's retry budget).
    const variants = Array.from({ length: 10 }, (_, i) => deps.filter((_, k) => (i >> k) & 1 || k === i % 6));
    await Promise.all(variants.map((dependsOn) => registry.update('target', { dependsOn })));
    const final = await registry.get('target');
    for (const d of deps) expect(await registry.dependantsOf(d)).toEqual(final.dependsOn.includes(d) ? ['target'] : []);

    // Different jobs created, re-pointed and deleted concurrently.
    const ids = Array.from({ length: 60 }, (_, i) => `j-${i}`);
    await Promise.all(ids.map((id, i) => registry.create(job(id, [deps[i % 6]]))));
    await Promise.all(
      ids.map((id, i) =>
        i % 3 === 0 ? registry.delete(id) : registry.update(id, { dependsOn: [deps[(i + 1) % 6], deps[(i + 2) % 6]] }),
      ),
    );
    await expectIndexMatchesRecords();
    expect((await registry.dependantsOf('d1')).length).toBeGreaterThan(0);
  });

  it('the first job of an empty registry marks the index complete; a registry with older data does not', async () => {
    expect(await registry.dependantsIndexReady()).toBe(false);
    await registry.create(job('first'));
    expect(await registry.dependantsIndexReady()).toBe(true);

    await deletePrefix(redis, prefix);
    await writeOldRecord('old', ['first']);
    await registry.create(job('second'));
    expect(await registry.dependantsIndexReady()).toBe(false);

    await deletePrefix(redis, prefix);
    await registry.syncFileJobs([parseJobDefinition(job('from-file'))]);
    expect(await registry.dependantsIndexReady()).toBe(true);
  });

  /** A record as code older than the index stored it: SET + ZADD, no dependants entry. */
  async function writeOldRecord(id: string, dependsOn: string[]): Promise<void> {
    const at = new Date().toISOString();
    const record: JobDefinition = {
      ...parseJobDefinition(job(id, dependsOn)),
      source: 'api',
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    await redis.set(keys.job(id), JSON.stringify(record));
    await redis.zadd(keys.jobs, 0, id);
  }

  it('rebuildDependantsIndex indexes older records, prunes wrong entries and marks the index complete', async () => {
    for (let i = 0; i < 1200; i++) await writeOldRecord(`old-${i}`, i % 2 ? ['root'] : ['root', `old-${i + 1}`]);
    await registry.create(job('new', ['root']));
    // Entries only an older writer could leave: a job that no longer depends, one that is gone.
    await redis.sadd(keys.jobDependants('elsewhere'), 'old-1', 'ghost');
    await redis.sadd(keys.jobDependants('root'), 'ghost');
    expect(await registry.dependantsIndexReady()).toBe(false);

    expect(await registry.rebuildDependantsIndex()).toEqual({ indexed: 1201, pruned: 3 });
    expect(await registry.dependantsIndexReady()).toBe(true);
    expect((await registry.dependantsOf('root')).length).toBe(1201);
    expect(await registry.dependantsOf('old-1')).toEqual(['old-0']);
    expect(await redis.exists(keys.jobDependants('elsewhere'))).toBe(0);
    await expectIndexMatchesRecords();

    // Idempotent.
    expect(await registry.rebuildDependantsIndex()).toEqual({ indexed: 1201, pruned: 0 });
    await expectIndexMatchesRecords();
  });

  it('a rebuild racing registry writes still ends exact', async () => {
    for (let i = 0; i < 600; i++) await writeOldRecord(`r-${i}`, [`dep-${i % 7}`]);
    const writes = (async () => {
      for (let i = 0; i < 600; i += 5) {
        if (i % 10 === 0) await registry.delete(`r-${i}`);
        else await registry.update(`r-${i}`, { dependsOn: [`dep-${(i + 3) % 7}`, 'dep-x'] });
        await registry.create(job(`n-${i}`, [`dep-${i % 7}`]));
      }
    })();
    await Promise.all([registry.rebuildDependantsIndex(), registry.rebuildDependantsIndex(), writes]);
    await expectIndexMatchesRecords();
  });

  it('findMany reads definitions in order, undefined where absent', async () => {
    await registry.create(job('m-a'));
    await registry.create(job('m-b', ['m-a']));
    const found = await registry.findMany(['m-b', 'missing', 'NOT VALID', 'm-a']);
    expect(found.map((j) => j?.id)).toEqual(['m-b', undefined, undefined, 'm-a']);
    expect(await registry.findMany([])).toEqual([]);
  });
});
