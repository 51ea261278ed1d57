import fc from 'fast-check';
import request from 'supertest';
import { parseJobDefinition } from '@cronbundle/core';
import { connectTestRedis } from '@cronbundle/testing';
import { jobBody, startTestApi, TestApi } from '../test-support/api-test-app';
import { JOB_PARSE_OPTIONS } from './jobs.service';

/** Bodies that are right or nearly (one field replaced by anything), and bodies that are anything at all. */
const fieldNames = [
  'id',
  'name',
  'labels',
  'schedule',
  'enabled',
  'overlapPolicy',
  'retry',
  'spec',
  'upload',
  'notify',
  'retention',
  'dependsOn',
  'version',
  'unknownField',
];
const nearlyValid = fc
  .record({
    id: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}[a-z0-9]$/),
    field: fc.option(fc.constantFrom(...fieldNames), { nil: undefined, freq: 2 }),
    value: fc.jsonValue(),
    cron: fc.constantFrom('0 2 * * *', '*/5 * * * *', '@daily', '61 * * * *', 'H * * * *', '', '0 0 30 2 *'),
    timezone: fc.constantFrom('UTC', 'Europe/Paris', 'Nowhere/X', ''),
  })
  .map(({ id, field, value, cron, timezone }) => ({
    ...jobBody(id, { schedule: { cron, timezone } }),
    ...(field ? { [field]: value } : {}),
  }));
const anyBody = fc.oneof(
  nearlyValid,
  fc.jsonValue(),
  fc.anything().map((v) => {
    try {
      return JSON.parse(JSON.stringify(v) ?? 'null') as unknown;
    } catch {
      return null;
    }
  }),
);
/** Raw text sent as application/json: mostly malformed. */
const rawText = fc.oneof(
  fc.string(),
  fc.json().map((j) => j.slice(0, Math.max(1, j.length - 1))),
);

describe('POST /jobs and PATCH /jobs/:id under random and malformed bodies (fast-check)', () => {
  let api: TestApi;
  const redis = connectTestRedis();
  const http = () => request(api.server);
  const statuses = new Map<number, number>();
  const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);

  beforeAll(async () => {
    api = await startTestApi();
    await http().post('/api/v1/jobs').send(jobBody('target')).expect(201);
  });
  afterAll(async () => {
    await api?.close();
    await redis.quit();
  });

  it('never answers 5xx and never stores a partial record (>= 500 bodies per route)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyBody.map((b) => ({ json: b })),
          rawText.map((t) => ({ raw: t })),
        ),
        async (input) => {
          const req = http().post('/api/v1/jobs').set('Content-Type', 'application/json');
          const res = await ('raw' in input ? req.send(input.raw) : req.send(JSON.stringify(input.json)));
          count(res.status);
          expect(res.status).toBeLessThan(500);
          expect([201, 400, 409, 413]).toContain(res.status);
        },
      ),
      // The examples make sure the run stores something, whatever the seed.
      { numRuns: 500, examples: [[{ json: jobBody('fuzz-valid-a') }], [{ json: jobBody('fuzz-valid-b') }]] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyBody.map((b) => ({ json: b })),
          rawText.map((t) => ({ raw: t })),
        ),
        async (input) => {
          const req = http().patch('/api/v1/jobs/target').set('If-Match', '*').set('Content-Type', 'application/json');
          const res = await ('raw' in input ? req.send(input.raw) : req.send(JSON.stringify(input.json)));
          count(res.status);
          expect(res.status).toBeLessThan(500);
          expect([200, 400, 413]).toContain(res.status);
        },
      ),
      { numRuns: 500 },
    );
    // The runs were not all rejections: some bodies were stored.
    expect(statuses.get(201) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);

    const keys = await redis.keys(`${api.prefix}:job:*`);
    const ids = await redis.zrange(`${api.prefix}:jobs`, 0, -1);
    expect(keys.length).toBe(ids.length);
    for (const key of keys) {
      const record = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
      expect(record).toMatchObject({ source: 'api', version: expect.any(Number), createdAt: expect.any(String) });
      const copy = { ...record };
      for (const k of ['source', 'version', 'createdAt', 'updatedAt', 'nextRunAt', 'lastExecution']) delete copy[k];
      expect(() => parseJobDefinition(copy, JOB_PARSE_OPTIONS)).not.toThrow();
    }
  });
});
