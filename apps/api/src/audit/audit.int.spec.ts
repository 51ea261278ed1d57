import request from 'supertest';
import { TEST_TOKENS, bearer, jobBody, startTestApi, TestApi } from '../test-support/api-test-app';
import { sha256Hex } from '../auth/token-store';

interface Entry {
  id: string;
  ts: string;
  actor: string;
  action: string;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe('audit log of mutating calls (in process, real Redis)', () => {
  let api: TestApi;
  const http = () => request(api.server);
  const hookSecret = 'hook-secret-4f9a1c';

  beforeAll(async () => {
    api = await startTestApi({ auth: true });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('writes {ts, actor, action, target, before, after} for each mutation, newest first, with no secret', async () => {
    const body = jobBody('audited', { notify: [{ url: `https://hooks.example/x?token=${hookSecret}` }] });
    await http().post('/api/v1/jobs').set(bearer('admin')).send(body).expect(201);
    await http()
      .patch('/api/v1/jobs/audited')
      .set(bearer('admin'))
      .set('If-Match', '1')
      .send({ description: 'd' })
      .expect(200);
    await http().post('/api/v1/jobs/audited/disable').set(bearer('operator')).expect(200);
    await http().post('/api/v1/jobs/audited/enable').set(bearer('operator')).expect(200);
    await http().delete('/api/v1/jobs/audited').set(bearer('admin')).expect(204);
    // Refused and failed calls are not audited.
    await http().post('/api/v1/jobs').set(bearer('viewer')).send(jobBody('nope')).expect(403);
    await http().post('/api/v1/jobs').set(bearer('admin')).send(jobBody('Bad!')).expect(400);

    const res = await http().get('/api/v1/audit').set(bearer('viewer')).expect(200);
    const items = res.body.items as Entry[];
    expect(items.map((e) => [e.actor, e.action, e.target])).toEqual([
      ['admin-bot', 'job.delete', 'job/audited'],
      ['operator-bot', 'job.enable', 'job/audited'],
      ['operator-bot', 'job.disable', 'job/audited'],
      ['admin-bot', 'job.update', 'job/audited'],
      ['admin-bot', 'job.create', 'job/audited'],
    ]);
    const [del, enable, disable, update, create] = items;
    expect(create.before).toBeNull();
    expect(create.after).toMatchObject({ id: 'audited', version: 1 });
    expect(update.before).toMatchObject({ version: 1, description: '' });
    expect(update.after).toMatchObject({ version: 2, description: 'd' });
    expect(disable.after).toMatchObject({ enabled: false });
    expect(enable.after).toMatchObject({ enabled: true });
    expect(del.after).toBeNull();
    expect(del.before).toMatchObject({ id: 'audited' });
    for (const e of items) expect(Number.isNaN(Date.parse(e.ts))).toBe(false);

    const text = JSON.stringify(items);
    expect(text).not.toContain(hookSecret);
    expect(text).toContain('token=[redacted]');
    for (const token of Object.values(TEST_TOKENS)) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(sha256Hex(token));
    }

    const page = await http().get('/api/v1/audit?limit=2').set(bearer('viewer')).expect(200);
    expect(page.body.items).toHaveLength(2);
    const rest = await http()
      .get(`/api/v1/audit?limit=10&cursor=${page.body.nextCursor}`)
      .set(bearer('viewer'))
      .expect(200);
    expect(rest.body.items.map((e: Entry) => e.action)).toEqual(['job.disable', 'job.update', 'job.create']);
    await http().get('/api/v1/audit?cursor=nope').set(bearer('viewer')).expect(400);
  });
});
