import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix } from '@cronbundle/testing';
import { newExecutionId } from './execution-id';
import { ExecutionStore, StaleAttemptError } from './execution-store';

describe('ExecutionStore against a real redis-server', () => {
  const redis = connectTestRedis();
  const keys = new RedisKeys(testPrefix());
  const store = new ExecutionStore(redis, keys, { maxLogEntries: 5 });
  const SLOT = Date.UTC(2026, 10, 22, 2, 0, 0);

  afterAll(async () => {
    await deletePrefix(redis, keys.prefix);
    redis.disconnect();
  });

  it('ensureSlot under 20 concurrent calls creates exactly one record for the slot', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.ensureSlot({ jobId: 'slots', scheduledFor: SLOT, trigger: 'schedule' })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
    expect(await redis.zcard(keys.jobExecs('slots'))).toBe(1);
    const record = results[0].record;
    expect(record).toMatchObject({ jobId: 'slots', status: 'queued', trigger: 'schedule', attempt: 0 });
    expect(record.scheduledFor).toBe(new Date(SLOT).toISOString());
    expect(await store.lastSlot('slots')).toBe(SLOT);
  });

  it('ensureSlot returns an existing missed record untouched', async () => {
    const missed = await store.ensureSlot({
      jobId: 'slots',
      scheduledFor: SLOT + 60_000,
      trigger: 'catchup',
      status: 'missed',
      reason: 'scheduler down',
    });
    expect(missed.created).toBe(true);
    expect(missed.record).toMatchObject({ status: 'missed', reason: 'scheduler down' });
    expect(missed.record.finishedAt).not.toBeNull();
    const again = await store.ensureSlot({ jobId: 'slots', scheduledFor: SLOT + 60_000, trigger: 'schedule' });
    expect(again).toMatchObject({ created: false, record: { id: missed.record.id, status: 'missed' } });
    expect(await store.start(missed.record.id, 'w:1')).toEqual({ kind: 'terminal', status: 'missed' });
    expect(await store.lastSlot('slots')).toBe(SLOT + 60_000);
  });

  it('runs the state machine with stage timings, details and capped logs', async () => {
    const rec = await store.create({ jobId: 'sm', trigger: 'manual', scheduledFor: Date.now() });
    const start = await store.start(rec.id, 'host-a:1');
    expect(start).toEqual({ kind: 'started', attempt: 1, redelivered: false });
    await store.recordStage(rec.id, 1, 'collect', 812.4);
    await store.update(rec.id, 1, { collectors: { total: 3, failed: 1 } });
    for (let i = 0; i < 8; i++) await store.log(rec.id, { level: 'info', component: 'test', message: `line ${i}` }, 1);
    await store.finish(rec.id, 1, {
      status: 'succeeded',
      details: { bundle: { name: 'b.tar.gz', sizeBytes: 10, sha256: 'ab', files: 2 } },
    });
    const done = (await store.get(rec.id, { logs: true }))!;
    expect(done).toMatchObject({
      status: 'succeeded',
      attempt: 1,
      workerId: 'host-a:1',
      stages: { collect: { ms: 812 } },
      collectors: { total: 3, failed: 1 },
      bundle: { name: 'b.tar.gz', files: 2 },
      error: null,
    });
    expect(done.finishedAt).not.toBeNull();
    expect(done.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'succeeded', workerId: 'host-a:1' })]);
    expect(done.logs!.map((l) => l.message)).toEqual(['line 3', 'line 4', 'line 5', 'line 6', 'line 7']);
    // Terminal: no second start, no late write.
    expect(await store.start(rec.id, 'host-b:2')).toEqual({ kind: 'terminal', status: 'succeeded' });
    await expect(store.recordStage(rec.id, 1, 'upload', 5)).rejects.toBeInstanceOf(StaleAttemptError);
    expect(await store.log(rec.id, { level: 'info', component: 't', message: 'late' }, 1)).toBe(false);
  });

  it('a redelivery closes the lost attempt as failed and refuses the stale attempt afterwards', async () => {
    const rec = await store.create({ jobId: 'crash', trigger: 'manual', scheduledFor: Date.now() });
    await store.start(rec.id, 'dead:1');
    await store.recordStage(rec.id, 1, 'collect', 100);
    const second = await store.start(rec.id, 'alive:2');
    expect(second).toEqual({ kind: 'started', attempt: 2, redelivered: true });
    await expect(store.recordStage(rec.id, 1, 'bundle', 5)).rejects.toBeInstanceOf(StaleAttemptError);
    await expect(store.finish(rec.id, 1, { status: 'succeeded' })).rejects.toBeInstanceOf(StaleAttemptError);
    await store.finish(rec.id, 2, { status: 'succeeded' });
    const done = (await store.get(rec.id))!;
    expect(done.status).toBe('succeeded');
    expect(done.stages).toEqual({});
    expect(done.attempts.map((a) => [a.attempt, a.workerId, a.status])).toEqual([
      [1, 'dead:1', 'failed'],
      [2, 'alive:2', 'succeeded'],
    ]);
    expect(done.attempts[0].error).toMatch(/dead:1 stopped/);
  });

  it('requeues for a retry, skips and cancels only from the right states', async () => {
    const rec = await store.create({ jobId: 'retry', trigger: 'manual', scheduledFor: Date.now() });
    await store.start(rec.id, 'w:1');
    await store.requeue(rec.id, 1, {
      attemptStatus: 'failed',
      error: { stage: 'upload', message: 'disk full' },
      reason: 'retrying',
    });
    expect(await store.get(rec.id)).toMatchObject({ status: 'queued', error: { stage: 'upload' }, finishedAt: null });
    expect(await store.finishUnstarted(rec.id, { status: 'skipped', reason: 'overlap' })).toBe(true);
    expect(await store.finishUnstarted(rec.id, { status: 'skipped', reason: 'again' })).toBe(false);
    expect(await store.get(rec.id)).toMatchObject({ status: 'skipped', reason: 'overlap' });

    const queued = await store.create({ jobId: 'retry', trigger: 'manual', scheduledFor: Date.now() });
    expect(await store.requestCancel(queued.id)).toBe('cancelled');
    expect(await store.requestCancel(queued.id)).toBe('finished');
    const running = await store.create({ jobId: 'retry', trigger: 'manual', scheduledFor: Date.now() });
    await store.start(running.id, 'w:1');
    expect(await store.requestCancel(running.id)).toBe('signalled');
    expect((await store.get(running.id))!.cancelRequestedAt).not.toBeNull();
    expect(await store.requestCancel(newExecutionId())).toBe('missing');
    expect(await store.requestCancel('../etc')).toBe('missing');
  });

  it('pages a history newest first without repeats, with a status filter', async () => {
    const base = Date.UTC(2026, 0, 1);
    const ids: string[] = [];
    for (let i = 0; i < 13; i++) {
      // Pairs share a score, to exercise ties at the cursor.
      const r = await store.create({
        jobId: 'pages',
        trigger: 'manual',
        scheduledFor: base + Math.floor(i / 2) * 1000,
      });
      ids.push(r.id);
      if (i % 3 === 0) await store.finishUnstarted(r.id, { status: 'skipped', reason: 'x' });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listForJob('pages', { limit: 4, cursor });
      expect(page.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(13);
    expect(new Set(seen).size).toBe(13);
    const scores = seen.map((id) => ids.indexOf(id)).map((i) => Math.floor(i / 2));
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const skipped = await store.listForJob('pages', { status: 'skipped', limit: 100 });
    expect(skipped.items.map((e) => e.id).sort()).toEqual(ids.filter((_, i) => i % 3 === 0).sort());
    expect(skipped.nextCursor).toBeNull();
  });

  it('retention keeps the newest N finished records and drops old ones, never running ones', async () => {
    const now = Date.now();
    const old = await store.create({ jobId: 'ret', trigger: 'manual', scheduledFor: now - 40 * 86_400_000 });
    await store.finishUnstarted(old.id, { status: 'skipped', reason: 'x' });
    const running = await store.create({ jobId: 'ret', trigger: 'manual', scheduledFor: now - 39 * 86_400_000 });
    await store.start(running.id, 'w:1');
    const recent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await store.create({ jobId: 'ret', trigger: 'manual', scheduledFor: now - (5 - i) * 1000 });
      await store.start(r.id, 'w:1');
      await store.log(r.id, { level: 'info', component: 't', message: 'x' }, 1);
      await store.finish(r.id, 1, { status: 'succeeded', retention: { executions: 3, days: 30 } });
      recent.push(r.id);
    }
    const left = (await redis.zrange(keys.jobExecs('ret'), 0, -1)).sort();
    expect(left).toEqual([running.id, ...recent.slice(-2)].sort());
    expect(await store.get(old.id)).toBeNull();
    expect(await redis.exists(keys.execLogs(recent[0]))).toBe(0);
    expect(await store.get(running.id)).toMatchObject({ status: 'running' });
  });
});
