import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { ValidationError, zodIssues } from '@cronbundle/core';

export interface ResponseContract {
  description: string;
  schema?: z.ZodType;
  headers?: Record<string, string>;
}

/**
 * What one route takes and answers. The handler validates with these schemas (ValidQuery, ValidParams,
 * ValidBody, or the core parser that wraps the same schema), and the OpenAPI document is built from them.
 */
export interface RouteContract {
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: { name: string; required: boolean; description: string }[];
  body?: { schema: z.ZodType; required: boolean; contentTypes?: string[] };
  responses: Record<number, ResponseContract>;
}

export const ROUTE_CONTRACT = 'cronbundle:route-contract';

export const ApiContract = (contract: RouteContract) => SetMetadata(ROUTE_CONTRACT, contract);

export function routeContract(handler: object): RouteContract | undefined {
  return Reflect.getMetadata(ROUTE_CONTRACT, handler) as RouteContract | undefined;
}

/** Parse or throw ValidationError with paths under `where` (`query.limit`). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(zodIssues(result.error, where));
  return result.data;
}

function contractOf(ctx: ExecutionContext): RouteContract {
  const c = routeContract(ctx.getHandler());
  if (!c) throw new Error(`${ctx.getClass().name}.${ctx.getHandler().name} has no @ApiContract`);
  return c;
}

/** The query string, validated by the route contract's `query` schema. */
export const ValidQuery = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const schema = contractOf(ctx).query;
  if (!schema) throw new Error('ValidQuery needs contract.query');
  return parseWith(schema, { ...ctx.switchToHttp().getRequest<Request>().query }, 'query');
});

/** The body, validated by the route contract's `body.schema`. */
export const ValidBody = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const body = contractOf(ctx).body;
  if (!body) throw new Error('ValidBody needs contract.body');
  const value = ctx.switchToHttp().getRequest<Request>().body as unknown;
  if (value === undefined && body.required)
    throw new ValidationError([{ path: '', message: 'a request body is required' }]);
  return parseWith(body.schema, value, '');
});
