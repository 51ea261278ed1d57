import request from 'supertest';
import { BULL_BOARD_ROUTE } from '../api.constants';
import { bearer, jobBody, startTestApi, TestApi } from '../test-support/api-test-app';

const runSpec = (type: 'run' | 'copy') => ({
  spec: {
    apiVersion: 'troubleshoot.sh/v1beta2',
    kind: 'SupportBundle',
    spec: {
      hostCollectors: [
        { cpu: {} },
        type === 'run'
          ? { run: { collectorName: 'uptime', command: 'uptime' } }
          : { copy: { collectorName: 'hosts', path: '/etc/hosts' } },
      ],
    },
  },
});

describe('API auth: bearer tokens and roles (in process, real Redis)', () => {
  let api: TestApi;
  const http = () => request(api.server);

  beforeAll(async () => {
    api = await startTestApi({ auth: true });
    await http().post('/api/v1/jobs').set(bearer('admin')).send(jobBody('seed-job')).expect(201);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('401 with WWW-Authenticate: Bearer without a token, with a wrong one, or another scheme', async () => {
    for (const auth of [undefined, 'Bearer not-a-token', 'Basic YWRtaW46YWRtaW4=', `Bearer admin-token-012345678`]) {
      const req = http().get('/api/v1/jobs');
      const res = await (auth ? req.set('Authorization', auth) : req).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body.error).toBe('unauthorized');
    }
  });

  it.each([
    ['GET /jobs', 'viewer', 'get', '/api/v1/jobs', undefined],
    ['GET /jobs/:id', 'viewer', 'get', '/api/v1/jobs/seed-job', undefined],
    ['GET /jobs/:id/status', 'viewer', 'get', '/api/v1/jobs/seed-job/status', undefined],
    ['GET /audit', 'viewer', 'get', '/api/v1/audit', undefined],
    ['GET /schedule/preview', 'viewer', 'get', '/api/v1/schedule/preview?cron=@daily', undefined],
    [
      'POST /specs/validate',
      'viewer',
      'post',
      '/api/v1/specs/validate',
      { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle' },
    ],
    ['POST /jobs/:id/disable', 'operator', 'post', '/api/v1/jobs/seed-job/disable', undefined],
    ['POST /jobs/:id/enable', 'operator', 'post', '/api/v1/jobs/seed-job/enable', undefined],
    ['POST /jobs', 'admin', 'post', '/api/v1/jobs', jobBody('role-job')],
    ['DELETE /jobs/:id', 'admin', 'delete', '/api/v1/jobs/role-job', undefined],
  ] as const)('%s needs role %s', async (_name, need, method, path, body) => {
    const roles = ['viewer', 'operator', 'admin'] as const;
    const needIndex = roles.indexOf(need);
    // Below the role: 403, naming the role needed. At or above it, not 401/403.
    for (const role of roles.slice(0, needIndex)) {
      const res = await http()
        [method](path)
        .set(bearer(role))
        .send(body as object)
        .expect(403);
      expect(res.body.error).toBe('forbidden');
      expect(res.body.message).toContain(`needs role ${need}`);
    }
    const res = await http()
      [method](path)
      .set(bearer(need))
      .send(body as object);
    expect(res.status).toBeLessThan(300);
  });

  it('PATCH needs admin', async () => {
    for (const role of ['viewer', 'operator'] as const) {
      await http()
        .patch('/api/v1/jobs/seed-job')
        .set(bearer(role))
        .set('If-Match', '*')
        .send({ name: 'x' })
        .expect(403);
    }
    await http()
      .patch('/api/v1/jobs/seed-job')
      .set(bearer('admin'))
      .set('If-Match', '*')
      .send({ name: 'x' })
      .expect(200);
  });

  it('only admin may save specs with run or copy collectors; the 403 names the role', async () => {
    for (const type of ['run', 'copy'] as const) {
      const operator = await http()
        .post('/api/v1/jobs')
        .set(bearer('operator'))
        .send(jobBody(`${type}-job`, runSpec(type)))
        .expect(403);
      expect(operator.body.message).toContain('admin');
      const admin = await http()
        .post('/api/v1/jobs')
        .set(bearer('admin'))
        .send(jobBody(`${type}-job`, runSpec(type)))
        .expect(201);
      expect(admin.body.spec.spec.hostCollectors[1]).toHaveProperty(type);
    }
    // The validate endpoint tells a viewer which collectors would need admin.
    const check = await http()
      .post('/api/v1/specs/validate')
      .set(bearer('viewer'))
      .send(runSpec('run').spec)
      .expect(200);
    expect(check.body).toEqual({ valid: true, errors: [], adminCollectors: ['spec.hostCollectors[1].run'] });
    // External mode hands the spec to troubleshoot's binary, which runs commands of its own: admin too.
    const external = { ...runSpec('run').spec, spec: { external: true, hostCollectors: [{ cpu: {} }] } };
    const ext = await http().post('/api/v1/specs/validate').set(bearer('viewer')).send(external).expect(200);
    expect(ext.body).toEqual({ valid: true, errors: [], adminCollectors: ['spec.external'] });
    await http()
      .post('/api/v1/jobs')
      .set(bearer('operator'))
      .send(jobBody('external-job', { spec: external }))
      .expect(403);
  });

  it('health, metrics and docs stay open', async () => {
    await http().get('/health/live').expect(200);
    await http().get('/health/ready').expect(200);
    await http().get('/metrics').expect(200);
    await http().get('/docs-json').expect(200);
  });

  it('Bull Board: 401 without a token, viewer may read, only operator may act', async () => {
    const anon = await http().get(`${BULL_BOARD_ROUTE}/api/queues`).expect(401);
    expect(anon.headers['www-authenticate']).toMatch(/^Bearer/);
    await http().get(`${BULL_BOARD_ROUTE}/api/queues`).set('Authorization', 'Bearer wrong').expect(401);
    const viewer = await http().get(`${BULL_BOARD_ROUTE}/api/queues`).set(bearer('viewer')).expect(200);
    expect(viewer.body.queues.length).toBeGreaterThan(0);
    await http().put(`${BULL_BOARD_ROUTE}/api/queues/runs/pause`).set(bearer('viewer')).expect(403);
    const op = await http().put(`${BULL_BOARD_ROUTE}/api/queues/runs/pause`).set(bearer('operator'));
    expect(op.status).toBeLessThan(300);
    await http()
      .put(`${BULL_BOARD_ROUTE}/api/queues/runs/resume`)
      .set(bearer('operator'))
      .expect((r) => {
        expect(r.status).toBeLessThan(300);
      });
  });
});
