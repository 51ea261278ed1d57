import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { parseConfig } from '@cronbundle/config';
import { createLogger } from '@cronbundle/observability';
import { testPrefix, testRedisUrl } from '@cronbundle/testing';
import { Writable } from 'node:stream';
import { ApiModule, BULL_BOARD_ROUTE } from './api.module';
import { configureApi } from './configure-api';

describe('api module (in process, real Redis)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const config = parseConfig('api', { REDIS_URL: testRedisUrl(), CRONBUNDLE_PREFIX: testPrefix(), PORT: '0' });
    const logger = createLogger({
      app: 'api',
      instanceId: 'test',
      level: 'warn',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule.forRoot(config, logger)] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    configureApi(app);
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers health, metrics, Bull Board and the OpenAPI document', async () => {
    const server = app.getHttpServer();
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
});
