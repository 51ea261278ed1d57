import { ArgumentsHost, NotFoundException } from '@nestjs/common';
import { LockedError, PreconditionFailedError, ValidationError, ConflictError } from '@cronbundle/core';
import type { Logger } from '@cronbundle/observability';
import { ApiExceptionFilter } from './api-exception.filter';

function fakeHost() {
  const res = {
    statusCode: 0,
    body: undefined as unknown,
    headers: {} as Record<string, string>,
    headersSent: false,
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    json(body: unknown) {
      this.body = body;
      return this;
    },
    setHeader(k: string, v: string) {
      this.headers[k] = v;
    },
  };
  const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  return { res, host };
}

describe('ApiExceptionFilter', () => {
  const errors: unknown[] = [];
  const logger = { error: (o: unknown) => errors.push(o) } as unknown as Logger;
  const filter = new ApiExceptionFilter(logger);

  it.each([
    [
      new ValidationError([{ path: 'schedule.cron', message: 'bad' }]),
      400,
      { error: 'validation', details: [{ path: 'schedule.cron', message: 'bad' }] },
    ],
    [
      new LockedError('j', { runningExecutionId: 'e1', startedAt: 's', lockExpiresAt: 'l' }),
      409,
      { error: 'locked', runningExecutionId: 'e1', startedAt: 's', lockExpiresAt: 'l' },
    ],
    [new ConflictError('exists', 'exists'), 409, { error: 'conflict', reason: 'exists' }],
    [new PreconditionFailedError('stale', 1, 2), 412, { error: 'precondition_failed', currentVersion: 2 }],
    [new NotFoundException(), 404, { error: 'not_found' }],
  ])('maps %p', (err, status, body) => {
    const { res, host } = fakeHost();
    filter.catch(err, host);
    expect(res.statusCode).toBe(status);
    expect(res.body).toMatchObject(body);
  });

  it('answers 500 without internals to an unexpected error, and logs it', () => {
    const { res, host } = fakeHost();
    filter.catch(new TypeError('cannot read secretThing of undefined at /work/x.ts:12'), host);
    expect(res.statusCode).toBe(500);
    expect(res.body).toEqual({ error: 'internal', message: 'internal server error' });
    expect(errors).toHaveLength(1);
  });
});
