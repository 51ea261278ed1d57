import request from 'supertest';
import { Lease } from '@cronbundle/coordination';
import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix } from '@cronbundle/testing';
import { startTestApi, TestApi } from '../test-support/api-test-app';

describe('GET /cluster (in process, real Redis)', () => {
  let api: TestApi;
  let keys: RedisKeys;
  const redis = connectTestRedis();

  beforeAll(async () => {
    api = await startTestApi();
    keys = new RedisKeys(api.prefix);
  });
  afterAll(async () => {
    await deletePrefix(redis, api.prefix);
    await api?.close();
    await redis.quit();
  });

  it('names the lease holder as the only leading scheduler, even when a dead leader still claims it', async () => {
    const now = Date.now();
    const beat = (value: Record<string, unknown>) => JSON.stringify(value);
    await redis.hset(keys.workers, {
      // sched-a was SIGKILLed while leading: its last heartbeat still says leader: true.
      'sched-a': beat({ role: 'scheduler', lastSeen: new Date(now - 4000).toISOString(), leader: true, epoch: 1 }),
      'sched-b': beat({ role: 'scheduler', lastSeen: new Date(now).toISOString(), leader: false }),
      'worker-1': beat({ lastSeen: new Date(now).toISOString(), concurrency: 10, active: 2 }),
      'worker-2': beat({ lastSeen: new Date(now - 60_000).toISOString(), concurrency: 10, active: 0 }),
    });
    const grant = await new Lease(redis, keys.leader, keys.leaderEpoch).acquire('sched-b', 30_000);
    expect(grant).not.toBeNull();

    const res = await request(api.server).get('/api/v1/cluster').expect(200);
    expect(res.body.leader).toMatchObject({ id: 'sched-b', epoch: grant!.epoch });
    expect(res.body.schedulers.map((s: { id: string; leader: boolean }) => [s.id, s.leader])).toEqual([
      ['sched-a', false],
      ['sched-b', true],
    ]);
    expect(res.body.workers).toEqual([
      expect.objectContaining({ id: 'worker-1', stale: false, concurrency: 10, active: 2 }),
      expect.objectContaining({ id: 'worker-2', stale: true }),
    ]);
    expect(res.body.queues.runs).toEqual(expect.any(Object));
  });
});
