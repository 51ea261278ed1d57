import { LeaseDeadline, electionTimings } from './clock';

describe('LeaseDeadline', () => {
  it('is invalid until a confirmation, then valid for leaseMs * ratio from when that call was sent', () => {
    const d = new LeaseDeadline(5000, 0.8);
    expect(d.isValid(0)).toBe(false);
    d.confirm(100);
    expect(d.isValid(100)).toBe(true);
    expect(d.isValid(4099)).toBe(true);
    expect(d.isValid(4100)).toBe(false);
    expect(d.remaining(1100)).toBe(3000);
  });

  it('ends before the lease itself could expire in Redis', () => {
    const d = new LeaseDeadline(5000);
    d.confirm(0);
    expect(d.safeMs).toBe(4000);
    expect(d.isValid(4999)).toBe(false);
  });

  it('a late reply to an older call never shortens the window', () => {
    const d = new LeaseDeadline(1000, 0.5);
    d.confirm(1000);
    d.confirm(200);
    expect(d.isValid(1400)).toBe(true);
    expect(d.remaining(1000)).toBe(500);
  });

  it('reset makes it invalid at once', () => {
    const d = new LeaseDeadline(1000);
    d.confirm(0);
    d.reset();
    expect(d.isValid(0)).toBe(false);
  });

  it('rejects nonsense settings', () => {
    expect(() => new LeaseDeadline(0)).toThrow(RangeError);
    expect(() => new LeaseDeadline(1000, 1)).toThrow(RangeError);
    expect(() => new LeaseDeadline(1000, 0)).toThrow(RangeError);
  });
});

describe('electionTimings', () => {
  it('renews every third of the lease and polls every fifth, at most once a second', () => {
    expect(electionTimings(3000)).toEqual({ renewEveryMs: 1000, followerPollMs: 600, renewRetryMs: 250 });
    expect(electionTimings(30_000).followerPollMs).toBe(1000);
    expect(electionTimings(600).renewRetryMs).toBe(60);
  });
});
