import { parseJobDefinition, type JobDefinition } from '@cronbundle/core';
import { schedulerRev } from '@cronbundle/queue';
import { planReconcile } from './reconcile-plan';

const NOW = Date.parse('2026-11-22T12:00:00Z');

function def(id: string, extra: Record<string, unknown> = {}): JobDefinition {
  const parsed = parseJobDefinition(
    { id, name: id, schedule: { cron: '*/5 * * * *' }, ...extra },
    { defaultTimezone: 'UTC' },
  );
  return {
    ...parsed,
    source: 'api',
    version: 1,
    createdAt: '2026-11-01T00:00:00Z',
    updatedAt: '2026-11-01T00:00:00Z',
  } as JobDefinition;
}

describe('planReconcile', () => {
  it('upserts what is missing, keeps what matches, removes what is gone', () => {
    const a = def('a');
    const b = def('b');
    const plan = planReconcile(
      [a, b],
      [
        { id: 'b', rev: schedulerRev(b), next: 0 },
        { id: 'gone', rev: 'x', next: 0 },
      ],
      NOW,
    );
    expect(plan.upsert.map((d) => d.id)).toEqual(['a']);
    expect(plan.unchanged).toBe(1);
    expect(plan.remove).toEqual(['gone']);
  });

  it('upserts when anything that shapes the slots or the runs changed', () => {
    const before = def('a');
    const actual = [{ id: 'a', rev: schedulerRev(before), next: 0 }];
    for (const change of [
      { schedule: { cron: '*/10 * * * *' } },
      { schedule: { cron: '*/5 * * * *', timezone: 'Europe/London' } },
      { schedule: { cron: '*/5 * * * *', dstPolicy: { repeated: 'twice', skipped: 'skip' } } },
      { retry: { attempts: 5, backoffSeconds: 30 } },
    ]) {
      expect(planReconcile([def('a', change)], actual, NOW).upsert).toHaveLength(1);
    }
    // A description is not part of the scheduler.
    expect(planReconcile([def('a', { description: 'new words' })], actual, NOW).upsert).toHaveLength(0);
  });

  it('removes disabled jobs and jobs whose window has ended', () => {
    const off = def('off', { enabled: false });
    const ended = def('ended', {
      schedule: { cron: '* * * * *', startAt: '2026-01-01T00:00:00Z', endAt: '2026-02-01T00:00:00Z' },
    });
    const actual = [off, ended].map((d) => ({ id: d.id, rev: schedulerRev(d), next: 0 }));
    const plan = planReconcile([off, ended], actual, NOW);
    expect(plan.upsert).toEqual([]);
    expect(plan.remove.sort()).toEqual(['ended', 'off']);
  });
});
