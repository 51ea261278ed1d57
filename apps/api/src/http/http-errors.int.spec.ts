import request from 'supertest';
import { jobBody, startTestApi, TestApi } from '../test-support/api-test-app';

describe('HTTP edge cases: body limit, malformed JSON, media types (in process, real Redis)', () => {
  let api: TestApi;
  const http = () => request(api.server);

  beforeAll(async () => {
    api = await startTestApi({ env: { API_BODY_LIMIT_BYTES: '4096' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('413 for a body over API_BODY_LIMIT_BYTES, and nothing stored', async () => {
    const big = jobBody('big-job', { description: 'x'.repeat(5000) });
    const res = await http().post('/api/v1/jobs').send(big).expect(413);
    expect(res.body).toEqual({ error: 'payload_too_large', message: 'request body is larger than 4096 bytes' });
    await http().get('/api/v1/jobs/big-job').expect(404);
    // Just under the limit is fine (the description is then a valid length).
    await http()
      .post('/api/v1/jobs')
      .send(jobBody('big-job', { description: 'x'.repeat(3000) }))
      .expect(201);
  });

  it('400 with a clear message for malformed JSON', async () => {
    const res = await http()
      .post('/api/v1/jobs')
      .set('Content-Type', 'application/json')
      .send('{"id": "x", "schedule": ')
      .expect(400);
    expect(res.body.error).toBe('malformed_json');
    expect(res.body.message).toMatch(/^request body is not valid JSON/);
  });

  it('400 for JSON that is not an object, and for a missing body', async () => {
    for (const body of ['[]', '"a string"', '42', 'null']) {
      const res = await http().post('/api/v1/jobs').set('Content-Type', 'application/json').send(body).expect(400);
      expect(res.body.error).toBe('validation');
    }
    await http().post('/api/v1/jobs').expect(400);
    await http()
      .patch('/api/v1/jobs/big-job')
      .set('If-Match', '*')
      .set('Content-Type', 'application/json')
      .send('[1]')
      .expect(400);
  });

  it('415 for a body that is not JSON', async () => {
    const form = await http().post('/api/v1/jobs').type('form').send('id=x').expect(415);
    expect(form.body.error).toBe('unsupported_media_type');
    await http().post('/api/v1/jobs').set('Content-Type', 'application/xml').send('<job/>').expect(415);
  });

  it('404 in the same JSON shape for an unknown route', async () => {
    const res = await http().get('/api/v1/nothing-here').expect(404);
    expect(res.body.error).toBe('not_found');
  });

  it('POST /specs/validate: valid and invalid specs are 200 with errors; a body that is not a spec is 400', async () => {
    const yaml = [
      'apiVersion: troubleshoot.sh/v1beta2',
      'kind: SupportBundle',
      'spec:',
      '  hostCollectors:',
      '    - cpu: {}',
      '    - warpDrive: {}',
    ].join('\n');
    const asYaml = await http()
      .post('/api/v1/specs/validate')
      .set('Content-Type', 'application/yaml')
      .send(yaml)
      .expect(200);
    expect(asYaml.body.valid).toBe(false);
    expect(asYaml.body.errors[0].path).toMatch(/^spec\.hostCollectors\[1\]/);
    const asJsonString = await http()
      .post('/api/v1/specs/validate')
      .send(JSON.stringify(yaml.replace('warpDrive', 'memory')))
      .set('Content-Type', 'application/json')
      .expect(200);
    expect(asJsonString.body).toEqual({ valid: true, errors: [], adminCollectors: [] });
    const asObject = await http()
      .post('/api/v1/specs/validate')
      .send({ apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { hostCollectors: [{ cpu: {} }] } })
      .expect(200);
    expect(asObject.body.valid).toBe(true);
    await http().post('/api/v1/specs/validate').set('Content-Type', 'application/json').send('42').expect(400);
    await http().post('/api/v1/specs/validate').expect(400);
  });
});
