import {
  ConflictError,
  DomainError,
  LockedError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from './errors';

describe('domain errors', () => {
  it('carry stable codes, names and their data', () => {
    const locked = new LockedError('daily', { runningExecutionId: '01J', startedAt: 'a', lockExpiresAt: 'b' });
    expect(locked).toBeInstanceOf(ConflictError);
    expect(locked).toBeInstanceOf(DomainError);
    expect(locked).toMatchObject({
      code: 'locked',
      name: 'LockedError',
      runningExecutionId: '01J',
      startedAt: 'a',
      lockExpiresAt: 'b',
    });
    expect(new NotFoundError('job', 'x')).toMatchObject({ code: 'not_found', message: 'job x not found' });
    expect(new ConflictError('taken')).toMatchObject({ code: 'conflict', name: 'ConflictError' });
    expect(new PreconditionFailedError('stale', 1, 2)).toMatchObject({
      code: 'precondition_failed',
      expectedVersion: 1,
      actualVersion: 2,
    });
    const v = new ValidationError([
      { path: 'a', message: 'bad' },
      { path: 'b', message: 'worse' },
    ]);
    expect(v).toMatchObject({ code: 'validation', message: 'a: bad; b: worse' });
    expect(v.details).toHaveLength(2);
  });
});
