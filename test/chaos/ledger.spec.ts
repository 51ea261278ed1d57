import { slotsBetween } from '@cronbundle/core';
import { bundleExecutionId, checkLedger, type LedgerExecution, type LedgerInput, type TriggerCall } from './ledger';

const schedule = { cron: '*/2 * * * * *', timezone: 'UTC' };
const FROM = Date.UTC(2026, 10, 29, 12, 0, 0);
const TO = FROM + 20_000;
const SLOTS = slotsBetween(schedule, FROM, TO); // 12:00:02 … 12:00:20, 10 slots
const iso = (ms: number) => new Date(ms).toISOString();

let seq = 0;
function execution(slot: number, extra: Partial<LedgerExecution> = {}): LedgerExecution {
  seq++;
  return {
    id: `01JCHAOS${String(seq).padStart(6, '0')}`,
    jobId: 'job-a',
    trigger: 'schedule',
    status: 'succeeded',
    scheduledFor: iso(slot),
    attempts: [{ attempt: 1, workerId: 'worker-1', status: 'succeeded' }],
    ...extra,
  };
}

function input(executions: LedgerExecution[], extra: Partial<LedgerInput> = {}): LedgerInput {
  return {
    jobs: [{ id: 'job-a', schedule, fromMs: FROM }],
    definitionsAtEnd: ['job-a'],
    executions,
    toMs: TO,
    triggers: [],
    ...extra,
  };
}

/**
 * A toy worker fleet delivering each slot once, and some slots a second time (a redelivery after a
 * crash). `perSlotId` is the invariant under test: with it, a redelivery finds the slot's record and
 * adds an attempt; without it (the injected bug: no per-slot job id / ensureSlot), each delivery
 * creates a new execution.
 */
function simulate(perSlotId: boolean): LedgerExecution[] {
  const bySlot = new Map<number, LedgerExecution>();
  const all: LedgerExecution[] = [];
  for (const [i, slot] of SLOTS.entries()) {
    const deliveries = i % 3 === 0 ? 2 : 1;
    for (let d = 0; d < deliveries; d++) {
      const existing = perSlotId ? bySlot.get(slot) : undefined;
      if (existing) {
        existing.attempts[existing.attempts.length - 1].status = 'failed';
        existing.attempts[existing.attempts.length - 1].error = 'worker worker-1 stopped before finishing';
        existing.attempts.push({ attempt: existing.attempts.length + 1, workerId: 'worker-2', status: 'succeeded' });
        continue;
      }
      const e = execution(slot);
      bySlot.set(slot, e);
      all.push(e);
    }
  }
  return all;
}

describe('slot ledger checker', () => {
  it('passes a ledger where every slot is ran, skipped or missed exactly once, with reasons', () => {
    const executions = SLOTS.map((slot, i) =>
      i === 1
        ? execution(slot, { status: 'skipped', reason: 'overlap', attempts: [] })
        : i === 2
          ? execution(slot, { status: 'missed', reason: 'no worker started this slot in time', attempts: [] })
          : execution(slot),
    );
    const report = checkLedger(input(executions));
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ slots: 10, ran: 8, skipped: 1, missed: 1, lost: 0, doubled: 0, stuck: 0 });
  });

  it('redeliveries recorded as attempts of one execution pass; the same history without per-slot ids fails as doubled', () => {
    const good = checkLedger(input(simulate(true)));
    expect(good.violations).toEqual([]);
    expect(good.redelivered).toBe(4);

    const bug = checkLedger(input(simulate(false)));
    expect(bug.doubled).toBe(4);
    expect(bug.violations.map((v) => v.kind)).toEqual(['doubled', 'doubled', 'doubled', 'doubled']);
  });

  it('a slot without a record is lost; a record still running is stuck; skipped or missed without a reason is flagged', () => {
    const executions = SLOTS.slice(1).map((slot, i) =>
      i === 0
        ? execution(slot, { status: 'running' })
        : i === 1
          ? execution(slot, { status: 'missed', reason: null, attempts: [] })
          : execution(slot),
    );
    const report = checkLedger(input(executions));
    expect(report).toMatchObject({ lost: 1, stuck: 1 });
    expect(report.violations.map((v) => v.kind).sort()).toEqual(['lost', 'no-reason', 'stuck']);
    expect(report.violations.find((v) => v.kind === 'lost')!.detail).toContain(iso(SLOTS[0]));
  });

  it('judges only slots after the window start and up to the window end (edge rule), and flags off-cron records', () => {
    const executions = [
      execution(FROM), // the window start itself: not judged
      ...SLOTS.map((slot) => execution(slot)),
      execution(TO + 2000, { status: 'running' }), // after the window: not judged
      execution(SLOTS[0] + 1000), // 12:00:03 is not a slot of */2
    ];
    const report = checkLedger(input(executions));
    expect(report.slots).toBe(10);
    expect(report.violations.map((v) => v.kind)).toEqual(['off-slot']);
  });

  it('manual triggers: 202 and 409 pass, 503 only while Redis was shut down; 500 and network errors fail', () => {
    const manual = execution(FROM + 5000, { trigger: 'manual' });
    const call = (status: number, redisDown = false, executionId?: string): TriggerCall => ({
      jobId: 'job-a',
      at: FROM + 5000,
      status,
      redisDown,
      executionId,
    });
    const triggers = [call(202, false, manual.id), call(409), call(503, true), call(503), call(500, true), call(0)];
    const report = checkLedger(input([...SLOTS.map((s) => execution(s)), manual], { triggers }));
    expect(report.manual).toEqual({
      total: 6,
      byStatus: { '202': 1, '409': 1, '503': 2, '500': 1, 'network error': 1 },
    });
    expect(report.violations.map((v) => v.detail)).toEqual([
      expect.stringContaining('answered 503'),
      expect.stringContaining('answered 500 (Redis was shut down)'),
      expect.stringContaining('answered a network error'),
    ]);
  });

  it('a manual run answered 202 must end; a definition the api no longer lists is lost', () => {
    const manual = execution(FROM + 5000, { trigger: 'manual', status: 'queued', attempts: [] });
    const triggers: TriggerCall[] = [
      { jobId: 'job-a', at: FROM, status: 202, redisDown: false, executionId: manual.id },
    ];
    const report = checkLedger(input([...SLOTS.map((s) => execution(s)), manual], { triggers, definitionsAtEnd: [] }));
    expect(report.violations.map((v) => v.kind).sort()).toEqual(['definition-lost', 'stuck']);
    // The same for a manual run whose trigger was answered with an error after the record was written.
    const orphan = execution(FROM + 6000, { trigger: 'manual', status: 'queued', attempts: [] });
    const failedCall: TriggerCall = { jobId: 'job-a', at: FROM + 6000, status: 500, redisDown: true };
    const second = checkLedger(input([...SLOTS.map((s) => execution(s)), orphan], { triggers: [failedCall] }));
    expect(second.violations.map((v) => v.kind).sort()).toEqual(['stuck', 'trigger']);
  });

  it('two bundles for one execution, or a bundle of no recorded execution, is work done twice', () => {
    const executions = SLOTS.map((s) => execution(s));
    const name = (e: LedgerExecution) => `job-a-2026-11-29T12-00-02Z-${e.id}.tar.gz`;
    expect(bundleExecutionId(name(executions[0]))).toBe(executions[0].id);
    const bundles = new Map([
      ['job-a', [name(executions[0]), name(executions[1]), 'job-a-2026-11-29T12-00-02Z-01JGHOST.tar.gz']],
    ]);
    const ok = checkLedger(input(executions, { bundles: new Map([['job-a', [name(executions[0])]]]) }));
    expect(ok.violations).toEqual([]);
    const report = checkLedger(input(executions, { bundles }));
    expect(report.violations.map((v) => v.kind)).toEqual(['duplicate-bundle']);
    expect(report.violations[0].detail).toContain('01JGHOST');
    const twice = checkLedger(
      input(executions, {
        bundles: new Map([['job-a', [name(executions[0]), name(executions[0]).replace('12-00-02Z', '12-00-04Z')]]]),
      }),
    );
    expect(twice.violations.map((v) => v.detail)).toEqual([`execution ${executions[0].id} uploaded 2 bundles`]);
  });
});
