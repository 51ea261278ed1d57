import { runJobId, scheduledForOf } from './payloads';

describe('run payload helpers', () => {
  it('takes the slot of a scheduled run from the job-scheduler job id', () => {
    expect(scheduledForOf('repeat:daily-check:1795320000000', { jobId: 'daily-check', trigger: 'schedule' })).toBe(
      1795320000000,
    );
  });
  it('falls back to the payload for other runs', () => {
    expect(scheduledForOf('manual-01J', { jobId: 'a', trigger: 'manual', scheduledFor: 42 })).toBe(42);
    expect(scheduledForOf(undefined, { jobId: 'a', trigger: 'manual' })).toBeUndefined();
  });
  it('builds ids BullMQ accepts (no colon) that are the same for the same execution', () => {
    expect(runJobId('manual', '01JABC')).toBe('manual-01JABC');
    expect(runJobId('catchup', 'x')).not.toContain(':');
  });
});
