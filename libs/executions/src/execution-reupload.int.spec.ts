import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix } from '@cronbundle/testing';
import { ExecutionStore } from './execution-store';

describe('ExecutionStore re-upload and jitter fields against a real redis-server', () => {
  const redis = connectTestRedis();
  const keys = new RedisKeys(testPrefix());
  let clock = Date.UTC(2026, 10, 22, 3, 0, 0);
  const store = new ExecutionStore(redis, keys, { now: () => new Date(clock) });

  afterAll(async () => {
    await deletePrefix(redis, keys.prefix);
    redis.disconnect();
  });

  const succeeded = async (upload?: { url: string; ms: number }) => {
    const record = await store.create({ jobId: 'r', trigger: 'manual', scheduledFor: clock });
    const started = await store.start(record.id, 'w');
    if (started.kind !== 'started') throw new Error('not started');
    await store.finish(record.id, started.attempt, { status: 'succeeded', ...(upload ? { details: { upload } } : {}) });
    return record.id;
  };

  it('requests only for finished executions with an uploaded bundle; one pending request at a time', async () => {
    const queued = await store.create({ jobId: 'r', trigger: 'manual', scheduledFor: clock });
    expect(await store.requestReupload(queued.id, { requestedBy: 'ops' })).toEqual({ kind: 'unfinished' });
    expect(await store.requestReupload(await succeeded(), { requestedBy: 'ops' })).toEqual({ kind: 'no-bundle' });
    expect(await store.requestReupload('01JZZZZZZZZZZZZZZZZZZZZZZZ', { requestedBy: 'ops' })).toEqual({
      kind: 'missing',
    });

    const id = await succeeded({ url: 'file:///a/r/x.tar.gz', ms: 3 });
    const first = await store.requestReupload(id, { requestedBy: 'ops' });
    expect(first).toEqual({
      kind: 'queued',
      reupload: {
        status: 'queued',
        requestedAt: new Date(clock).toISOString(),
        requestedBy: 'ops',
        from: 'file:///a/r/x.tar.gz',
      },
    });
    clock += 1000;
    expect(await store.requestReupload(id, { requestedBy: 'ops' })).toEqual({ kind: 'pending' });
    // A request queued for longer than staleMs (its queue job presumably lost) may be replaced.
    expect((await store.requestReupload(id, { requestedBy: 'ops2', staleMs: 500 })).kind).toBe('queued');
  });

  it('records the outcome of the current request only; success moves upload to the new copy', async () => {
    const id = await succeeded({ url: 'file:///a/r/y.tar.gz', ms: 3 });
    const old = await store.requestReupload(id, { requestedBy: 'ops', staleMs: 0 });
    clock += 1000;
    const current = await store.requestReupload(id, { requestedBy: 'ops', staleMs: 0 });
    if (old.kind !== 'queued' || current.kind !== 'queued') throw new Error('expected queued requests');

    expect(await store.recordReupload(id, old.reupload.requestedAt, { status: 'failed', error: 'late', ms: 1 })).toBe(
      false,
    );
    expect(
      await store.recordReupload(id, current.reupload.requestedAt, { status: 'succeeded', url: 'file:///b/y', ms: 7 }),
    ).toBe(true);
    const record = await store.get(id);
    expect(record).toMatchObject({
      status: 'succeeded',
      upload: { url: 'file:///b/y', ms: 7 },
      reupload: { status: 'succeeded', from: 'file:///a/r/y.tar.gz', url: 'file:///b/y', ms: 7 },
    });
    expect(record!.reupload!.finishedAt).toEqual(expect.any(String));
  });

  it('setJitter writes the delay while the record is queued only', async () => {
    const { record } = await store.ensureSlot({ jobId: 'j', scheduledFor: clock, trigger: 'schedule' });
    expect(await store.setJitter(record.id, 1234.4)).toBe(true);
    expect((await store.get(record.id))!.jitterMs).toBe(1234);
    await store.start(record.id, 'w');
    expect(await store.setJitter(record.id, 99)).toBe(false);
    expect((await store.get(record.id))!.jitterMs).toBe(1234);
  });
});
