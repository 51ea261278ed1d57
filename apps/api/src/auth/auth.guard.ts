import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { API_PREFIX } from '../api.constants';
import { ApiAuth } from './api-auth';
import { Actor, ANONYMOUS, Role } from './token-store';

export const REQUIRED_ROLE = 'cronbundle:required-role';
export const PUBLIC_ROUTE = 'cronbundle:public-route';

/** The least role a route needs. Without it: GET/HEAD need viewer, anything else admin (fail closed). */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);
/** A route under /api/v1 that needs no token. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

type AuthedRequest = Request & { actor?: Actor };

/** The authenticated caller of this request (`anonymous` admin when AUTH_DISABLED=true). */
export const CurrentActor = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Actor => ctx.switchToHttp().getRequest<AuthedRequest>().actor ?? ANONYMOUS,
);

export function defaultRole(method: string): Role {
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'admin';
}

/**
 * Registered globally (APP_GUARD) for every controller; it guards routes under /api/v1 only, so
 * /health/*, /metrics stay open. Using `@UseGuards(ApiAuthGuard)` as well is harmless.
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: ApiAuth,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const path = (req.originalUrl ?? req.url).split('?')[0];
    if (!path.startsWith(`/${API_PREFIX}/`) && path !== `/${API_PREFIX}`) return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()])) return true;
    const need =
      this.reflector.getAllAndOverride<Role>(REQUIRED_ROLE, [ctx.getHandler(), ctx.getClass()]) ??
      defaultRole(req.method);
    const actor = this.auth.authenticate(req.headers.authorization);
    this.auth.authorize(actor, need, `${req.method} ${path}`);
    req.actor = actor;
    return true;
  }
}
