import request from 'supertest';
import { parseJobDefinition } from '@cronbundle/core';
import { connectTestRedis } from '@cronbundle/testing';
import { jobBody, startTestApi, TestApi } from '../test-support/api-test-app';

describe('jobs API (in process, real Redis, auth disabled)', () => {
  let api: TestApi;
  const redis = connectTestRedis();
  const http = () => request(api.server);

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
    await redis.quit();
  });

  it('creates, gets (with nextRunAt and ETag), lists, patches and deletes a job', async () => {
    const created = await http().post('/api/v1/jobs').send(jobBody('daily-check')).expect(201);
    expect(created.body).toMatchObject({ id: 'daily-check', source: 'api', version: 1, enabled: true });
    expect(created.body.schedule).toMatchObject({ cron: '0 2 * * *', timezone: 'America/New_York', jitterSeconds: 0 });
    expect(created.headers.etag).toBe('"1"');

    const got = await http().get('/api/v1/jobs/daily-check').expect(200);
    expect(got.body.id).toBe('daily-check');
    const next = Date.parse(got.body.nextRunAt);
    expect(next).toBeGreaterThan(Date.now());
    expect(next - Date.now()).toBeLessThanOrEqual(25 * 3600_000);
    // 02:00 in New York is 06:00 or 07:00 UTC.
    expect([6, 7]).toContain(new Date(next).getUTCHours());

    await http()
      .post('/api/v1/jobs')
      .send(jobBody('other-job', { labels: { team: 'db' }, enabled: false }))
      .expect(201);
    const all = await http().get('/api/v1/jobs').expect(200);
    expect(all.body.items.map((j: { id: string }) => j.id)).toEqual(['daily-check', 'other-job']);
    expect(all.body.nextCursor).toBeNull();
    const disabledOne = all.body.items.find((j: { id: string }) => j.id === 'other-job');
    expect(disabledOne.nextRunAt).toBeNull();
    const sre = await http().get('/api/v1/jobs?label=team=sre').expect(200);
    expect(sre.body.items.map((j: { id: string }) => j.id)).toEqual(['daily-check']);
    const off = await http().get('/api/v1/jobs?enabled=false').expect(200);
    expect(off.body.items.map((j: { id: string }) => j.id)).toEqual(['other-job']);
    const q = await http().get('/api/v1/jobs?q=DAILY').expect(200);
    expect(q.body.items.map((j: { id: string }) => j.id)).toEqual(['daily-check']);
    const page1 = await http().get('/api/v1/jobs?limit=1').expect(200);
    expect(page1.body.items).toHaveLength(1);
    const page2 = await http().get(`/api/v1/jobs?limit=1&cursor=${page1.body.nextCursor}`).expect(200);
    expect(page2.body.items.map((j: { id: string }) => j.id)).toEqual(['other-job']);
    expect(page2.body.nextCursor).toBeNull();

    const patched = await http()
      .patch('/api/v1/jobs/daily-check')
      .set('If-Match', '1')
      .send({ description: 'nightly', schedule: { cron: '30 3 * * *' } })
      .expect(200);
    expect(patched.body).toMatchObject({ version: 2, description: 'nightly' });
    expect(patched.body.schedule).toMatchObject({ cron: '30 3 * * *', timezone: 'America/New_York' });
    expect(patched.headers.etag).toBe('"2"');

    const status = await http().get('/api/v1/jobs/daily-check/status').expect(200);
    expect(status.body).toMatchObject({ running: false, lock: null, lastExecution: null });
    expect(status.body.nextRuns).toHaveLength(5);
    expect(status.body.job.version).toBe(2);

    const disabled = await http().post('/api/v1/jobs/daily-check/disable').expect(200);
    expect(disabled.body).toMatchObject({ enabled: false, nextRunAt: null, version: 3 });
    const enabled = await http().post('/api/v1/jobs/daily-check/enable').expect(200);
    expect(enabled.body).toMatchObject({ enabled: true, version: 4 });

    await http().delete('/api/v1/jobs/daily-check').expect(204);
    await http().get('/api/v1/jobs/daily-check').expect(404);
    await http().delete('/api/v1/jobs/daily-check').expect(404);
    await http().post('/api/v1/jobs/daily-check/enable').expect(404);
    await http().get('/api/v1/jobs/daily-check/status').expect(404);
  });

  it.each([
    ['an invalid cron', { schedule: { cron: '61 * * * *' } }, 'schedule.cron'],
    ['an unknown time zone', { schedule: { cron: '0 2 * * *', timezone: 'Mars/Olympus' } }, 'schedule.timezone'],
    ['an unknown field', { colour: 'blue' }, 'colour'],
    ['an unknown nested field', { retry: { attempts: 2, tries: 3 } }, 'retry.tries'],
    ['a read-only field', { version: 7 }, 'version'],
    [
      'an unknown collector type',
      {
        spec: {
          apiVersion: 'troubleshoot.sh/v1beta2',
          kind: 'SupportBundle',
          spec: { hostCollectors: [{ cpu: {} }, { teleport: {} }] },
        },
      },
      'spec.spec.hostCollectors[1]',
    ],
  ])('answers 400 naming the path for %s', async (_what, extra, path) => {
    const res = await http().post('/api/v1/jobs').send(jobBody('bad-job', extra)).expect(400);
    expect(res.body.error).toBe('validation');
    expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^${path.replace(/[[\].]/g, '\\$&')}`))]),
    );
    await http().get('/api/v1/jobs/bad-job').expect(404);
  });

  it('answers 400 for an invalid id, and 400 for bad list queries naming the parameter', async () => {
    const res = await http().post('/api/v1/jobs').send(jobBody('Not_An_Id')).expect(400);
    expect(res.body.details).toEqual([expect.objectContaining({ path: 'id' })]);
    const limit = await http().get('/api/v1/jobs?limit=0').expect(400);
    expect(limit.body.details[0].path).toBe('query.limit');
    const unknown = await http().get('/api/v1/jobs?colour=blue').expect(400);
    expect(unknown.body.details).toEqual([{ path: 'query.colour', message: 'unknown field' }]);
    const cursor = await http().get('/api/v1/jobs?cursor=garbage').expect(400);
    expect(cursor.body.details[0].path).toBe('query.cursor');
  });

  it('answers 409 for a duplicate id and keeps the first definition', async () => {
    await http()
      .post('/api/v1/jobs')
      .send(jobBody('dup-job', { description: 'first' }))
      .expect(201);
    const res = await http()
      .post('/api/v1/jobs')
      .send(jobBody('dup-job', { description: 'second' }))
      .expect(409);
    expect(res.body).toMatchObject({ error: 'conflict', reason: 'exists' });
    expect((await http().get('/api/v1/jobs/dup-job')).body.description).toBe('first');
  });

  it('PATCH needs If-Match: 428 without, 412 when stale, 400 when not a version', async () => {
    await http().post('/api/v1/jobs').send(jobBody('versioned')).expect(201);
    const missing = await http().patch('/api/v1/jobs/versioned').send({ description: 'x' }).expect(428);
    expect(missing.body.error).toBe('precondition_required');
    await http().patch('/api/v1/jobs/versioned').set('If-Match', '"1"').send({ description: 'a' }).expect(200);
    const stale = await http()
      .patch('/api/v1/jobs/versioned')
      .set('If-Match', '1')
      .send({ description: 'b' })
      .expect(412);
    expect(stale.body).toMatchObject({ error: 'precondition_failed', currentVersion: 2 });
    await http().patch('/api/v1/jobs/versioned').set('If-Match', 'abc').send({ description: 'c' }).expect(400);
    const job = (await http().get('/api/v1/jobs/versioned').expect(200)).body;
    expect(job).toMatchObject({ version: 2, description: 'a' });
    // Stale If-Match on DELETE too.
    await http().delete('/api/v1/jobs/versioned').set('If-Match', '1').expect(412);
    await http().patch('/api/v1/jobs/versioned').set('If-Match', '2').send({ id: 'renamed' }).expect(400);
    await http().patch('/api/v1/jobs/nope').set('If-Match', '1').send({ description: 'x' }).expect(404);
  });

  it('10 concurrent PATCHes with the same version: exactly one 200, the rest 412', async () => {
    await http().post('/api/v1/jobs').send(jobBody('contended')).expect(201);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        http()
          .patch('/api/v1/jobs/contended')
          .set('If-Match', '1')
          .send({ description: `writer ${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(412)]);
    const winner = results.find((r) => r.status === 200)!;
    const job = (await http().get('/api/v1/jobs/contended').expect(200)).body;
    expect(job).toMatchObject({ version: 2, description: winner.body.description });
  });

  it('every stored record is a complete, valid definition', async () => {
    const keys = await redis.keys(`${api.prefix}:job:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const record = JSON.parse((await redis.get(key))!);
      expect(() => parseJobDefinition(stripSystem(record))).not.toThrow();
    }
  });
});

function stripSystem(record: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...record };
  for (const k of ['source', 'version', 'createdAt', 'updatedAt', 'nextRunAt', 'lastExecution']) delete copy[k];
  return copy;
}
