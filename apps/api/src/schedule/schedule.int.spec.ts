import request from 'supertest';
import { startTestApi, TestApi } from '../test-support/api-test-app';

describe('GET /schedule/preview (in process)', () => {
  let api: TestApi;
  const preview = (query: string) => request(api.server).get(`/api/v1/schedule/preview?${query}`);

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('is DST-correct: a skipped 02:30 shifts, the UTC offset changes across spring-forward', async () => {
    // 2026-03-08: New York springs forward at 02:00 EST -> 03:00 EDT.
    const res = await preview(
      'cron=30%202%20*%20*%20*&timezone=America/New_York&count=3&from=2026-03-06T12:00:00Z',
    ).expect(200);
    expect(res.body).toEqual({
      cron: '30 2 * * *',
      timezone: 'America/New_York',
      next: ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    });
    const skip = await preview(
      'cron=30%202%20*%20*%20*&timezone=America/New_York&count=2&from=2026-03-06T12:00:00Z&skipped=skip',
    ).expect(200);
    expect(skip.body.next).toEqual(['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it('fires a repeated 01:30 once by default, twice on request (fall-back)', async () => {
    // 2026-11-01: New York falls back at 02:00 EDT -> 01:00 EST.
    const q = 'cron=30%201%20*%20*%20*&timezone=America/New_York&count=3&from=2026-10-31T12:00:00Z';
    expect((await preview(q).expect(200)).body.next).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
      '2026-11-03T06:30:00.000Z',
    ]);
    expect((await preview(`${q}&repeated=twice`).expect(200)).body.next).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('defaults to 5 times in UTC; 400 naming the parameter for bad input', async () => {
    const res = await preview('cron=@hourly').expect(200);
    expect(res.body.timezone).toBe('UTC');
    expect(res.body.next).toHaveLength(5);
    for (const [q, path] of [
      ['cron=61%20*%20*%20*%20*', 'query.cron'],
      ['cron=@daily&timezone=Nowhere/City', 'query.timezone'],
      ['cron=@daily&count=0', 'query.count'],
      ['cron=@daily&count=101', 'query.count'],
      ['timezone=UTC', 'query.cron'],
      ['cron=@daily&from=yesterday', 'query.from'],
    ]) {
      const bad = await preview(q).expect(400);
      expect(bad.body.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });
});
