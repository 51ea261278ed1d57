import { HttpException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiAuth } from './api-auth';

/**
 * Bull Board is plain express middleware (no Nest guards): reading needs viewer, any action on a
 * queue or job (POST/PUT/DELETE through its API) needs operator (ARCHITECTURE.md §6).
 */
export function bullBoardAuth(auth: ApiAuth) {
  return function bullBoardAuthMiddleware(req: Request, res: Response, next: NextFunction): void {
    try {
      const actor = auth.authenticate(req.headers.authorization);
      const readOnly = req.method === 'GET' || req.method === 'HEAD';
      auth.authorize(
        actor,
        readOnly ? 'viewer' : 'operator',
        readOnly ? 'Bull Board' : 'changing queues in Bull Board',
      );
      next();
    } catch (err) {
      if (!(err instanceof HttpException)) return next(err);
      if (err.getStatus() === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="cronbundle"');
      res.status(err.getStatus()).json(err.getResponse());
    }
  };
}
