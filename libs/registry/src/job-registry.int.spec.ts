import type { Redis } from 'ioredis';
import {
  ConflictError,
  JobDefinitionSpec,
  NotFoundError,
  parseJobDefinition,
  PreconditionFailedError,
  ValidationError,
} from '@cronbundle/core';
import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix, waitFor } from '@cronbundle/testing';
import { JobRegistry, RegistryEvent } from './job-registry';

const job = (id: string, extra: Record<string, unknown> = {}) => ({ id, schedule: { cron: '0 2 * * *' }, ...extra });

describe('JobRegistry against real Redis', () => {
  let redis: Redis;
  const extra: Redis[] = [];
  let keys: RedisKeys;
  let registry: JobRegistry;
  const prefix = testPrefix();

  beforeAll(() => {
    redis = connectTestRedis();
    keys = new RedisKeys(prefix);
    registry = new JobRegistry(redis, keys, {
      createSubscriber: () => {
        const sub = connectTestRedis();
        extra.push(sub);
        return sub;
      },
    });
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });
  afterAll(async () => {
    await Promise.all(extra.map((c) => c.quit().catch(() => undefined)));
    await redis.quit();
  });

  it('creates, gets, lists, updates and deletes', async () => {
    const created = await registry.create(job('alpha', { name: 'Alpha', labels: { team: 'sre' } }));
    expect(created).toMatchObject({ id: 'alpha', source: 'api', version: 1, enabled: true });
    expect(created.createdAt).toBe(created.updatedAt);
    expect(await registry.get('alpha')).toEqual(created);
    expect((await registry.list()).items.map((j) => j.id)).toEqual(['alpha']);

    const updated = await registry.update('alpha', { schedule: { cron: '0 3 * * *' } }, { expectedVersion: 1 });
    expect(updated).toMatchObject({
      version: 2,
      name: 'Alpha',
      schedule: { cron: '0 3 * * *' },
      createdAt: created.createdAt,
    });
    expect(await registry.get('alpha')).toEqual(updated);

    const disabled = await registry.setEnabled('alpha', false);
    expect(disabled).toMatchObject({ enabled: false, version: 3 });
    expect(await registry.setEnabled('alpha', false)).toEqual(disabled); // no-op, no new version

    await registry.delete('alpha');
    await expect(registry.get('alpha')).rejects.toBeInstanceOf(NotFoundError);
    await expect(registry.delete('alpha')).rejects.toBeInstanceOf(NotFoundError);
    await expect(registry.update('alpha', {})).rejects.toBeInstanceOf(NotFoundError);
    expect(await redis.zcard(keys.jobs)).toBe(0);
    await expect(registry.get('x:execs')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a duplicate id with ConflictError, leaving the first intact', async () => {
    const first = await registry.create(job('dup', { name: 'first' }));
    await expect(registry.create(job('dup', { name: 'second' }))).rejects.toBeInstanceOf(ConflictError);
    expect(await registry.get('dup')).toEqual(first);
  });

  it('validates input and patches with field paths, writing nothing', async () => {
    await expect(registry.create(job('bad', { schedule: { cron: 'nope' } }))).rejects.toMatchObject({
      details: [expect.objectContaining({ path: 'schedule.cron' })],
    });
    await registry.create(job('good'));
    await expect(registry.update('good', { notify: [{ url: 'ftp://x' }] })).rejects.toBeInstanceOf(ValidationError);
    expect((await registry.get('good')).version).toBe(1);
    expect(await registry.revision()).toBe(1);
  });

  it('a stale expectedVersion is PreconditionFailedError and changes nothing', async () => {
    await registry.create(job('stale'));
    await registry.update('stale', { name: 'v2' }, { expectedVersion: 1 });
    const err = await registry.update('stale', { name: 'v3' }, { expectedVersion: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect(err).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(await registry.get('stale')).toMatchObject({ name: 'v2', version: 2 });
    await expect(registry.delete('stale', { expectedVersion: 1 })).rejects.toBeInstanceOf(PreconditionFailedError);
  });

  it('20 concurrent updates of the same version: exactly one wins', async () => {
    await registry.create(job('race'));
    const conns = Array.from({ length: 4 }, () => connectTestRedis());
    extra.push(...conns);
    const editors = Array.from({ length: 20 }, (_, i) => new JobRegistry(conns[i % conns.length], keys));
    const results = await Promise.allSettled(
      editors.map((r, i) => r.update('race', { name: `editor-${i}` }, { expectedVersion: 1 })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    expect(lost.every((r) => r.reason instanceof PreconditionFailedError)).toBe(true);
    const stored = await registry.get('race');
    expect(stored.version).toBe(2);
    expect(stored.name).toBe((won[0] as PromiseFulfilledResult<{ name: string }>).value.name);
  });

  it('without expectedVersion, concurrent updates all apply (re-read and retry)', async () => {
    await registry.create(job('lww', { labels: {} }));
    const conns = [connectTestRedis(), connectTestRedis()];
    extra.push(...conns);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        new JobRegistry(conns[i % 2], keys).update('lww', { labels: { [`k${i}`]: 'v' } }),
      ),
    );
    const stored = await registry.get('lww');
    expect(stored.version).toBe(11);
    expect(Object.keys(stored.labels)).toHaveLength(10);
  });

  it('filters by label, enabled and text, and rejects a forged cursor', async () => {
    await registry.create(job('web-1', { labels: { team: 'web', tier: 'gold' }, description: 'Front door' }));
    await registry.create(job('web-2', { labels: { team: 'web' }, enabled: false }));
    await registry.create(job('db-1', { labels: { team: 'db', tier: 'gold' }, name: 'Postgres primary' }));
    const ids = async (q: Parameters<JobRegistry['list']>[0]) => (await registry.list(q)).items.map((j) => j.id);
    expect(await ids({ label: 'team=web' })).toEqual(['web-1', 'web-2']);
    expect(await ids({ label: ['team=web', 'tier=gold'] })).toEqual(['web-1']);
    expect(await ids({ label: 'tier' })).toEqual(['db-1', 'web-1']);
    expect(await ids({ enabled: false })).toEqual(['web-2']);
    expect(await ids({ q: 'POSTGRES' })).toEqual(['db-1']);
    expect(await ids({ q: 'door' })).toEqual(['web-1']);
    const page = await registry.list({ limit: 2 });
    expect(page.items.map((j) => j.id)).toEqual(['db-1', 'web-1']);
    expect((await registry.list({ limit: 2, cursor: page.nextCursor })).items.map((j) => j.id)).toEqual(['web-2']);
    expect((await registry.list({ limit: 3 })).nextCursor).toBeNull();
    await expect(registry.list({ cursor: 'garbage' })).rejects.toMatchObject({ details: [{ path: 'cursor' }] });
    await expect(registry.list({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('pages through 10,000 jobs with no duplicates or gaps while others are added and deleted', async () => {
    const stable = Array.from({ length: 10_000 }, (_, i) => job(`job-${String(i).padStart(5, '0')}`));
    const churn = Array.from({ length: 500 }, (_, i) => job(`job-${String(i * 20).padStart(5, '0')}-churn`));
    const { created, conflicts } = await registry.createMany([...stable, ...churn]);
    expect(created).toHaveLength(10_500);
    expect(conflicts).toEqual([]);

    const writerConn = connectTestRedis();
    extra.push(writerConn);
    const writer = new JobRegistry(writerConn, keys);
    let stop = false;
    let writes = 0;
    const churning = (async () => {
      let i = 0;
      while (!stop) {
        // New ids land before, between and after the stable ones; churn ids vanish mid-listing.
        await writer.create(job(`job-${String((i * 37) % 10_000).padStart(5, '0')}-new-${i}`));
        await writer.create(job(`aaa-${i}`));
        await writer.create(job(`zzz-${i}`));
        if (i < churn.length) await writer.delete(churn[i].id);
        i++;
        writes += 4;
      }
    })();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await registry.list({ limit: 250, cursor });
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    stop = true;
    await churning;

    expect(writes).toBeGreaterThan(20); // the writer really ran during the listing
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(seen); // id order
    const seenSet = new Set(seen);
    expect(stable.filter((j) => !seenSet.has(j.id))).toEqual([]);
    expect(pages).toBeGreaterThanOrEqual(40);
  });

  it('publishes every write with consecutive revisions', async () => {
    const events: RegistryEvent[] = [];
    const sub = await registry.subscribe((e) => events.push(e));
    try {
      const before = await registry.revision();
      await registry.create(job('evt'));
      await registry.update('evt', { name: 'x' }, { expectedVersion: 1 });
      await registry.setEnabled('evt', false);
      await registry.delete('evt');
      await waitFor(() => events.length >= 4, { what: '4 registry events', timeoutMs: 5000 });
      expect(events).toEqual([
        { type: 'created', id: 'evt', version: 1, revision: before + 1 },
        { type: 'updated', id: 'evt', version: 2, revision: before + 2 },
        { type: 'updated', id: 'evt', version: 3, revision: before + 3 },
        { type: 'deleted', id: 'evt', version: 3, revision: before + 4 },
      ]);
      expect(await registry.revision()).toBe(before + 4);
    } finally {
      await sub.close();
    }
  });

  describe('file-managed jobs', () => {
    const def = (id: string, extraFields: Record<string, unknown> = {}): JobDefinitionSpec =>
      parseJobDefinition(job(id, extraFields));

    it('refuse update and delete through the API, allow enable/disable', async () => {
      const result = await registry.syncFileJobs([def('from-file')]);
      expect(result).toMatchObject({ created: ['from-file'], updated: [], deleted: [], conflicts: [] });
      expect(await registry.get('from-file')).toMatchObject({ source: 'file', version: 1 });
      await expect(registry.update('from-file', { name: 'x' })).rejects.toMatchObject({ reason: 'file-managed' });
      await expect(registry.update('from-file', { name: 'x' })).rejects.toBeInstanceOf(ConflictError);
      await expect(registry.delete('from-file')).rejects.toBeInstanceOf(ConflictError);
      expect(await registry.setEnabled('from-file', false)).toMatchObject({ enabled: false, version: 2 });
    });

    it('sync replaces the set: unchanged files keep operator state, changed ones update, gone ones are deleted', async () => {
      await registry.syncFileJobs([def('f-a'), def('f-b'), def('f-c')]);
      await registry.setEnabled('f-a', false);
      await registry.create(job('api-owned'));
      const events: RegistryEvent[] = [];
      const sub = await registry.subscribe((e) => events.push(e));
      try {
        const result = await registry.syncFileJobs([
          def('f-a'),
          def('f-b', { name: 'B2' }),
          def('f-d'),
          def('api-owned'),
        ]);
        expect(result).toEqual({
          created: ['f-d'],
          updated: ['f-b'],
          deleted: ['f-c'],
          unchanged: 1,
          conflicts: [{ id: 'api-owned', reason: expect.stringMatching(/API/) }],
        });
        expect(await registry.get('f-a')).toMatchObject({ enabled: false, version: 2 });
        expect(await registry.get('f-b')).toMatchObject({ name: 'B2', version: 2, source: 'file' });
        await expect(registry.get('f-c')).rejects.toBeInstanceOf(NotFoundError);
        expect(await registry.get('api-owned')).toMatchObject({ source: 'api', version: 1 });
        await waitFor(() => events.length >= 3, { what: 'sync events', timeoutMs: 5000 });
        expect(events.map((e) => `${e.type}:${e.id}`).sort()).toEqual(['created:f-d', 'deleted:f-c', 'updated:f-b']);
        expect(await registry.syncFileJobs([])).toMatchObject({ deleted: ['f-a', 'f-b', 'f-d'] });
        expect((await registry.list()).items.map((j) => j.id)).toEqual(['api-owned']);
      } finally {
        await sub.close();
      }
    });
  });
});
