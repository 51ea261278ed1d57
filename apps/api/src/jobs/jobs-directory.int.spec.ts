import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { waitFor } from '@cronbundle/testing';
import { startTestApi, TestApi } from '../test-support/api-test-app';

const fileJob = (description: string) => `
id: from-file
description: ${description}
schedule: { cron: "0 3 * * *", timezone: Europe/Paris }
spec:
  apiVersion: troubleshoot.sh/v1beta2
  kind: SupportBundle
  spec: { hostCollectors: [ { cpu: {} } ] }
`;

describe('JOBS_DIR loaded by the api (in process, real Redis)', () => {
  let api: TestApi;
  const dir = mkdtempSync(join(tmpdir(), 'cronbundle-jobs-'));
  const http = () => request(api.server);

  beforeAll(async () => {
    writeFileSync(join(dir, 'jobs.yaml'), fileJob('v1'));
    writeFileSync(join(dir, 'broken.yaml'), 'id: broken\nschedule: { cron: "nope" }\n');
    api = await startTestApi({ env: { JOBS_DIR: dir } });
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves file jobs as source "file"; a bad file is logged and does not stop the others', async () => {
    const job = (await http().get('/api/v1/jobs/from-file').expect(200)).body;
    expect(job).toMatchObject({ source: 'file', description: 'v1', schedule: { timezone: 'Europe/Paris' } });
    expect(job.nextRunAt).not.toBeNull();
    await http().get('/api/v1/jobs/broken').expect(404);
    expect(api.logs.join('')).toContain('broken.yaml');
  });

  it('refuses PATCH and DELETE of a file-managed job with 409; enable/disable still work', async () => {
    const patch = await http()
      .patch('/api/v1/jobs/from-file')
      .set('If-Match', '*')
      .send({ description: 'x' })
      .expect(409);
    expect(patch.body).toMatchObject({ error: 'conflict', reason: 'file-managed' });
    expect(patch.body.message).toContain('JOBS_DIR');
    await http().delete('/api/v1/jobs/from-file').expect(409);
    await http().post('/api/v1/jobs/from-file/disable').expect(200);
    await http().post('/api/v1/jobs/from-file/enable').expect(200);
    expect((await http().get('/api/v1/jobs/from-file').expect(200)).body.description).toBe('v1');
  });

  it('re-syncs when a file changes', async () => {
    writeFileSync(join(dir, 'jobs.yaml'), fileJob('v2'));
    await waitFor(async () => (await http().get('/api/v1/jobs/from-file')).body.description === 'v2', {
      what: 'the edited file to reach the registry',
      timeoutMs: 15_000,
    });
  });
});
