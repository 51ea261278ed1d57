import type { ExecutionLogEntry } from '@cronbundle/core';
import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix } from '@cronbundle/testing';
import { ExecutionStore, StaleAttemptError } from './execution-store';

/**
 * The round-trip cuts of a run (docs/WORKER.md, "Record writes"): create/start return what the
 * worker needs, buffered log lines and stage timings go with `append` or the final write, and
 * retention runs inside `finish`, each one command, with the same records as before.
 */
describe('ExecutionStore: one command per step, buffered writes (real redis-server)', () => {
  const redis = connectTestRedis();
  const keys = new RedisKeys(testPrefix());
  const store = new ExecutionStore(redis, keys, { maxLogEntries: 5 });
  const line = (message: string): ExecutionLogEntry => ({
    ts: new Date().toISOString(),
    level: 'info',
    component: 'test',
    message,
  });
  const messages = async (id: string) => (await store.get(id, { logs: true }))!.logs!.map((l) => l.message);

  /** Commands `work` sends on the store's connection (EVALSHA of a known script is one). */
  const commandsOf = async (work: () => Promise<unknown>): Promise<string[]> => {
    const spy = jest.spyOn(redis, 'sendCommand');
    try {
      await work();
      return spy.mock.calls.map(([cmd]) => (cmd as { name: string }).name);
    } finally {
      spy.mockRestore();
    }
  };

  afterAll(async () => {
    await deletePrefix(redis, keys.prefix);
    redis.disconnect();
  });

  it('ensureSlot, create, start and finish (with retention) take one command each once their scripts are loaded', async () => {
    const slot = Date.UTC(2026, 10, 29, 1, 0, 0);
    // Load every script once (EVALSHA falls back to EVAL on first use).
    const warm = await store.create({ jobId: 'one', trigger: 'manual', scheduledFor: slot - 1 });
    await store.start(warm.id, 'w:1', { log: { level: 'info', component: 'worker', message: 'attempt {attempt}' } });
    await store.finish(warm.id, 1, { status: 'succeeded', retention: { executions: 10, days: 30 } });
    await store.ensureSlot({ jobId: 'one', scheduledFor: slot - 2, trigger: 'schedule' });

    let created!: Awaited<ReturnType<ExecutionStore['ensureSlot']>>;
    expect(
      await commandsOf(async () => {
        created = await store.ensureSlot({ jobId: 'one', scheduledFor: slot, trigger: 'schedule' });
      }),
    ).toEqual(['evalsha']);
    expect(created).toMatchObject({ created: true, record: { jobId: 'one', status: 'queued', attempt: 0 } });
    expect(created.record).toEqual(await store.get(created.record.id));
    // The slot's existing record comes back whole, from the same single command.
    let again!: Awaited<ReturnType<ExecutionStore['ensureSlot']>>;
    expect(
      await commandsOf(async () => {
        again = await store.ensureSlot({ jobId: 'one', scheduledFor: slot, trigger: 'schedule' });
      }),
    ).toEqual(['evalsha']);
    expect(again).toEqual({ created: false, record: created.record });

    let manual!: Awaited<ReturnType<ExecutionStore['create']>>;
    expect(
      await commandsOf(async () => {
        manual = await store.create({ jobId: 'one', trigger: 'manual', scheduledFor: slot });
      }),
    ).toEqual(['evalsha']);
    expect(manual).toEqual(await store.get(manual.id));
    expect(manual).toMatchObject({ trigger: 'manual', status: 'queued' });

    const id = created.record.id;
    expect(
      await commandsOf(() =>
        store.start(id, 'w:1', { log: { level: 'info', component: 'worker', message: 'attempt {attempt} started' } }),
      ),
    ).toEqual(['evalsha']);
    expect(
      await commandsOf(() =>
        store.finish(id, 1, {
          status: 'succeeded',
          retention: { executions: 10, days: 30 },
          writes: { logs: [line('done')], stages: { collect: 3 } },
        }),
      ),
    ).toEqual(['evalsha']);
    expect(await messages(id)).toEqual(['attempt 1 started', 'done']);
  });

  it('start writes its "started" line with the attempt number in the same step and returns a pending cancel and the jitter delay', async () => {
    const rec = await store.create({ jobId: 'start', trigger: 'manual', scheduledFor: Date.now() });
    const plain = await store.start(rec.id, 'w:1', {
      log: { level: 'info', component: 'worker', message: 'attempt {attempt} started on w:1' },
    });
    expect(plain).toEqual({ kind: 'started', attempt: 1, redelivered: false });
    expect(await store.requestCancel(rec.id, 'cancelled by bob')).toBe('signalled');
    // A redelivery: attempt 2, and the cancel flagged meanwhile comes back with the start.
    const second = await store.start(rec.id, 'w:2', {
      log: { level: 'info', component: 'worker', message: 'attempt {attempt} started on w:2' },
    });
    expect(second).toMatchObject({ kind: 'started', attempt: 2, redelivered: true, cancelReason: 'cancelled by bob' });
    expect(second.kind === 'started' && second.cancelRequestedAt).toEqual(expect.any(String));
    expect(await messages(rec.id)).toEqual(['attempt 1 started on w:1', 'attempt 2 started on w:2']);
    const logs = (await store.get(rec.id, { logs: true }))!;
    expect(logs.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'running'],
    ]);

    const slot = Date.UTC(2026, 10, 29, 2, 0, 0);
    const { record } = await store.ensureSlot({ jobId: 'start', scheduledFor: slot, trigger: 'schedule' });
    expect(await store.setJitter(record.id, 1234)).toBe(true);
    expect(await store.start(record.id, 'w:1')).toEqual({
      kind: 'started',
      attempt: 1,
      redelivered: false,
      jitterMs: 1234,
    });
    // No log option: no line.
    expect(await messages(record.id)).toEqual([]);
  });

  it('append writes buffered lines in order and stage timings; a stale attempt writes nothing', async () => {
    const rec = await store.create({ jobId: 'append', trigger: 'manual', scheduledFor: Date.now() });
    await store.start(rec.id, 'w:1');
    await store.append(rec.id, 1, { logs: [line('a'), line('b')], stages: { collect: 12.6 } });
    await store.append(rec.id, 1, { logs: [line('c')], stages: { analyze: 1 } });
    expect(await messages(rec.id)).toEqual(['a', 'b', 'c']);
    expect((await store.get(rec.id))!.stages).toEqual({ collect: { ms: 13 }, analyze: { ms: 1 } });

    await store.start(rec.id, 'w:2');
    await expect(store.append(rec.id, 1, { logs: [line('late')], stages: { bundle: 5 } })).rejects.toBeInstanceOf(
      StaleAttemptError,
    );
    expect(await messages(rec.id)).toEqual(['a', 'b', 'c']);
    // Stage timings belong to an attempt: the new attempt starts with none, and the stale one added none.
    expect((await store.get(rec.id))!.stages).toEqual({});
  });

  it("finish writes the attempt's buffered lines after the flushed ones, in order, capped to the newest, with stage timings", async () => {
    const rec = await store.create({ jobId: 'fin', trigger: 'manual', scheduledFor: Date.now() });
    await store.start(rec.id, 'w:1', { log: { level: 'info', component: 'worker', message: 'started {attempt}' } });
    await store.append(rec.id, 1, { logs: [line('flushed 1'), line('flushed 2')], stages: { collect: 40 } });
    await store.finish(rec.id, 1, {
      status: 'succeeded',
      details: { collectors: { total: 1, failed: 0 } },
      writes: {
        logs: [line('end 1'), line('end 2'), line('end 3')],
        stages: { analyze: 1, redact: 2, bundle: 3, upload: 4 },
      },
    });
    const done = (await store.get(rec.id, { logs: true }))!;
    expect(done).toMatchObject({
      status: 'succeeded',
      collectors: { total: 1, failed: 0 },
      stages: { collect: { ms: 40 }, analyze: { ms: 1 }, redact: { ms: 2 }, bundle: { ms: 3 }, upload: { ms: 4 } },
    });
    expect(done.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'succeeded' })]);
    // maxLogEntries is 5 in this store: the newest five, oldest first.
    expect(done.logs!.map((l) => l.message)).toEqual(['flushed 1', 'flushed 2', 'end 1', 'end 2', 'end 3']);

    // More buffered lines than the cap: only the newest are written, still in order.
    const many = await store.create({ jobId: 'fin', trigger: 'manual', scheduledFor: Date.now() });
    await store.start(many.id, 'w:1');
    const logs = Array.from({ length: 9 }, (_, i) => line(`l${i}`));
    await store.finish(many.id, 1, { status: 'failed', error: { stage: 'collect', message: 'x' }, writes: { logs } });
    expect(await messages(many.id)).toEqual(['l4', 'l5', 'l6', 'l7', 'l8']);
  });

  it('a stale finish or requeue writes none of its buffered lines; a requeue keeps them on the record', async () => {
    const rec = await store.create({ jobId: 'stale', trigger: 'manual', scheduledFor: Date.now() });
    await store.start(rec.id, 'w:1');
    await store.start(rec.id, 'w:2');
    await expect(
      store.finish(rec.id, 1, { status: 'succeeded', writes: { logs: [line('stale')], stages: { collect: 1 } } }),
    ).rejects.toBeInstanceOf(StaleAttemptError);
    await expect(
      store.requeue(rec.id, 1, { attemptStatus: 'interrupted', reason: 'r', writes: { logs: [line('stale')] } }),
    ).rejects.toBeInstanceOf(StaleAttemptError);
    expect(await messages(rec.id)).toEqual([]);
    expect(await store.get(rec.id)).toMatchObject({ status: 'running', attempt: 2, stages: {} });

    await store.requeue(rec.id, 2, {
      attemptStatus: 'interrupted',
      reason: 'interrupted: shutdown',
      writes: { logs: [line('before shutdown')], stages: { collect: 7 } },
    });
    expect(await store.get(rec.id)).toMatchObject({ status: 'queued', stages: { collect: { ms: 7 } } });
    expect(await messages(rec.id)).toEqual(['before shutdown']);
  });

  it('finish and finishUnstarted apply retention in the same step: newest N finished kept, running ones never dropped', async () => {
    const now = Date.now();
    const old = await store.create({ jobId: 'ret1', trigger: 'manual', scheduledFor: now - 40 * 86_400_000 });
    await store.finishUnstarted(old.id, { status: 'skipped', reason: 'x' });
    const running = await store.create({ jobId: 'ret1', trigger: 'manual', scheduledFor: now - 39 * 86_400_000 });
    await store.start(running.id, 'w:1');
    const recent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await store.create({ jobId: 'ret1', trigger: 'manual', scheduledFor: now - (5 - i) * 1000 });
      await store.start(r.id, 'w:1');
      await store.finish(r.id, 1, {
        status: 'succeeded',
        retention: { executions: 3, days: 30 },
        writes: { logs: [line('x')] },
      });
      recent.push(r.id);
    }
    expect((await redis.zrange(keys.jobExecs('ret1'), 0, -1)).sort()).toEqual([running.id, ...recent.slice(-2)].sort());
    expect(await store.get(old.id)).toBeNull();
    expect(await redis.exists(keys.execLogs(recent[0]))).toBe(0);
    expect(await store.get(running.id)).toMatchObject({ status: 'running' });

    // A slot record dropped by retention leaves the slot index too.
    const slot = Date.UTC(2026, 0, 1);
    const { record } = await store.ensureSlot({ jobId: 'ret1', scheduledFor: slot, trigger: 'schedule' });
    expect(
      await store.finishUnstarted(record.id, {
        status: 'skipped',
        reason: 'y',
        retention: { executions: 3, days: 30 },
      }),
    ).toBe(true);
    expect(await store.get(record.id)).toBeNull();
    expect(await store.slotExecutionId('ret1', slot)).toBeNull();
  });
});
