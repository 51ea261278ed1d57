import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject, Optional } from '@nestjs/common';
import type { Response } from 'express';
import {
  ConflictError,
  DomainError,
  LockedError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '@cronbundle/core';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { isRedisUnavailable } from '@cronbundle/redis';

export interface ErrorBody {
  error: string;
  message: string;
  [key: string]: unknown;
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  428: 'precondition_required',
  429: 'too_many_requests',
};

/** Domain error -> status and body. LockedError before ConflictError: it is one. */
export function domainErrorResponse(err: DomainError): { status: number; body: ErrorBody } {
  if (err instanceof LockedError) {
    return {
      status: 409,
      body: {
        error: 'locked',
        message: err.message,
        runningExecutionId: err.runningExecutionId,
        startedAt: err.startedAt,
        lockExpiresAt: err.lockExpiresAt,
      },
    };
  }
  if (err instanceof ValidationError)
    return { status: 400, body: { error: 'validation', message: err.message, details: err.details } };
  if (err instanceof NotFoundError) return { status: 404, body: { error: 'not_found', message: err.message } };
  if (err instanceof ConflictError) {
    return {
      status: 409,
      body: { error: 'conflict', message: err.message, ...(err.reason ? { reason: err.reason } : {}) },
    };
  }
  if (err instanceof PreconditionFailedError) {
    return {
      status: 412,
      body: {
        error: 'precondition_failed',
        message: err.message,
        ...(err.actualVersion !== undefined ? { currentVersion: err.actualVersion } : {}),
      },
    };
  }
  return { status: 400, body: { error: err.code, message: err.message } };
}

export function httpExceptionResponse(err: HttpException): { status: number; body: ErrorBody } {
  const status = err.getStatus();
  const response = err.getResponse();
  const fallback = STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'error');
  if (typeof response === 'object' && response !== null) {
    const r = response as Record<string, unknown>;
    const message = Array.isArray(r.message) ? r.message.join('; ') : String(r.message ?? err.message);
    const error = typeof r.error === 'string' && /^[a-z_]+$/.test(r.error) ? r.error : fallback;
    const rest = { ...r };
    delete rest.statusCode;
    return { status, body: { ...rest, error, message } };
  }
  return { status, body: { error: fallback, message: String(response) } };
}

function isHealthCheckBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'status' in body && 'details' in body && 'info' in body;
}

/**
 * The one place errors become HTTP (CONVENTIONS.md). Anything unexpected is logged with its stack
 * and answered 500 with no internals.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(@Optional() @Inject(LOGGER) private readonly logger?: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    // A failed health check (terminus) is an answer, not an error: keep its body as probes expect it.
    if (exception instanceof HttpException && isHealthCheckBody(exception.getResponse())) {
      res.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    let out: { status: number; body: ErrorBody };
    if (exception instanceof DomainError) out = domainErrorResponse(exception);
    else if (exception instanceof HttpException) out = httpExceptionResponse(exception);
    else if (isRedisUnavailable(exception)) {
      // Redis is down or restarting: nothing was decided, so say when to come back, not "internal".
      this.logger?.warn({ err: (exception as Error).message }, 'Redis unavailable; answered 503');
      res.setHeader('Retry-After', '1');
      out = { status: 503, body: { error: 'unavailable', message: 'Redis is unavailable; retry shortly' } };
    } else {
      this.logger?.error({ err: exception }, 'unhandled error in a request');
      out = { status: HttpStatus.INTERNAL_SERVER_ERROR, body: { error: 'internal', message: 'internal server error' } };
    }
    if (out.status >= 500 && exception instanceof HttpException) {
      this.logger?.error({ err: exception }, 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (out.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="cronbundle"');
    res.status(out.status).json(out.body);
  }
}
