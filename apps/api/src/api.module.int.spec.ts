import request from 'supertest';
import { BULL_BOARD_ROUTE } from './api.module';
import { startTestApi, TestApi } from './test-support/api-test-app';

describe('api module (in process, real Redis)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers health, metrics, Bull Board and the OpenAPI document', async () => {
    const server = api.server;
    await request(server).get('/health/live').expect(200);
    const ready = await request(server).get('/health/ready').expect(200);
    expect(ready.body.details.redis.status).toBe('up');
    const metrics = await request(server).get('/metrics').expect(200);
    expect(metrics.text).toContain('process_cpu_user_seconds_total');
    const board = await request(server).get(`${BULL_BOARD_ROUTE}/api/queues`).expect(200);
    expect(board.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['notifications', 'runs']);
    const doc = await request(server).get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
  });

  it('warns at boot that auth is disabled', () => {
    expect(api.logs.join('')).toContain('AUTH_DISABLED=true');
  });
});
