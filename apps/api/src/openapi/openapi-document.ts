import { INestApplication, Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import { API_PREFIX } from '../api.constants';
import { defaultRole, PUBLIC_ROUTE, REQUIRED_ROLE } from '../auth/auth.guard';
import type { Role } from '../auth/token-store';
import { errorSchema, REQUEST_COMPONENTS, RESPONSE_COMPONENTS } from './api-schemas';
import { RouteContract, routeContract } from './contract';

type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown> & { operationId?: string };

const TARGET = 'openapi-3.0' as const;
const JSON_TYPE = 'application/json';

/** JSON Schemas of the registered components, with refs between them as `#/components/schemas/X`. */
function components(map: Map<z.ZodType, string>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of map) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, {
    target: TARGET,
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  for (const schema of Object.values(out.schemas)) delete schema.$id;
  return out.schemas;
}

function schemaRef(schema: z.ZodType, map: Map<z.ZodType, string>, io: 'input' | 'output'): JsonSchema {
  const id = map.get(schema);
  if (id) return { $ref: `#/components/schemas/${id}` };
  const inline = z.toJSONSchema(schema, { target: TARGET, io, unrepresentable: 'any' }) as JsonSchema;
  delete inline.$schema;
  return inline;
}

function isOptional(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

function parameters(contract: RouteContract, pathParams: string[]): JsonSchema[] {
  const out: JsonSchema[] = [];
  const paramShape = (contract.params?.shape ?? {}) as Record<string, z.ZodType>;
  for (const name of pathParams) {
    const schema = paramShape[name] ? schemaRef(paramShape[name], new Map(), 'input') : { type: 'string' };
    out.push({ name, in: 'path', required: true, schema });
  }
  for (const [name, schema] of Object.entries((contract.query?.shape ?? {}) as Record<string, z.ZodType>)) {
    const json = schemaRef(schema, new Map(), 'input');
    const param: JsonSchema = { name, in: 'query', required: !isOptional(schema), schema: json };
    if (schema.description) param.description = schema.description;
    out.push(param);
  }
  for (const h of contract.headers ?? []) {
    out.push({
      name: h.name,
      in: 'header',
      required: h.required,
      description: h.description,
      schema: { type: 'string' },
    });
  }
  return out;
}

function operationFor(contract: RouteContract, pathParams: string[], role: Role | undefined): Operation {
  const op: Operation = { summary: contract.summary };
  const notes = [contract.description, role ? `Needs role \`${role}\` or higher.` : undefined].filter(Boolean);
  if (notes.length) op.description = notes.join('\n\n');
  const params = parameters(contract, pathParams);
  if (params.length) op.parameters = params;
  if (contract.body) {
    const schema = schemaRef(contract.body.schema, REQUEST_COMPONENTS, 'input');
    op.requestBody = {
      required: contract.body.required,
      content: Object.fromEntries((contract.body.contentTypes ?? [JSON_TYPE]).map((t) => [t, { schema }])),
    };
  }
  const responses: Record<string, JsonSchema> = {};
  for (const [status, r] of Object.entries(contract.responses)) {
    const res: JsonSchema = { description: r.description };
    if (r.schema) res.content = { [JSON_TYPE]: { schema: schemaRef(r.schema, RESPONSE_COMPONENTS, 'output') } };
    if (r.headers)
      res.headers = Object.fromEntries(
        Object.entries(r.headers).map(([k, d]) => [k, { description: d, schema: { type: 'string' } }]),
      );
    responses[status] = res;
  }
  if (role) {
    const err = { content: { [JSON_TYPE]: { schema: schemaRef(errorSchema, RESPONSE_COMPONENTS, 'output') } } };
    responses['401'] ??= { description: 'no valid bearer token', ...err };
    responses['403'] ??= { description: `the token's role is below ${role}`, ...err };
    op.security = [{ bearer: [] }];
  }
  op.responses = responses;
  return op;
}

/** Controllers and their handler names, as Nest's swagger explorer names operations (`Class_method`). */
function contractsByOperationId(app: INestApplication): Map<string, { contract: RouteContract; role?: Role }> {
  const out = new Map<string, { contract: RouteContract; role?: Role }>();
  const modules = app.get(ModulesContainer, { strict: false });
  for (const mod of modules.values()) {
    for (const wrapper of mod.controllers.values()) {
      const metatype = wrapper.metatype as Type<unknown> | null;
      if (!metatype) continue;
      const proto = metatype.prototype as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(proto)) {
        const handler = proto[key];
        if (key === 'constructor' || typeof handler !== 'function') continue;
        const contract = routeContract(handler);
        if (!contract) continue;
        const isPublic = Reflect.getMetadata(PUBLIC_ROUTE, handler) ?? Reflect.getMetadata(PUBLIC_ROUTE, metatype);
        const role = (Reflect.getMetadata(REQUIRED_ROLE, handler) ?? Reflect.getMetadata(REQUIRED_ROLE, metatype)) as
          Role | undefined;
        out.set(`${metatype.name}_${key}`, { contract, role: isPublic ? undefined : (role ?? ('_default' as Role)) });
      }
    }
  }
  return out;
}

/**
 * Nest's swagger explorer lists every route (so a controller without a contract still shows up);
 * each operation with an @ApiContract is then replaced by one built from the contract's zod schemas.
 */
export function withContracts(app: INestApplication, document: OpenAPIObject): OpenAPIObject {
  const contracts = contractsByOperationId(app);
  const prefix = `/${API_PREFIX}/`;
  for (const [path, item] of Object.entries(document.paths)) {
    const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, value] of Object.entries(item as Record<string, Operation>)) {
      if (typeof value !== 'object' || value === null || !('responses' in value)) continue;
      const guarded = path.startsWith(prefix);
      const found = value.operationId ? contracts.get(value.operationId) : undefined;
      if (!found) {
        if (guarded) value.security = [{ bearer: [] }];
        continue;
      }
      const role =
        guarded && found.role
          ? found.role === ('_default' as Role)
            ? defaultRole(method.toUpperCase())
            : found.role
          : undefined;
      const op = operationFor(found.contract, pathParams, role);
      (item as Record<string, Operation>)[method] = { operationId: value.operationId, tags: value.tags, ...op };
    }
  }
  document.components = {
    ...document.components,
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token from API_TOKENS_FILE' } },
    schemas: {
      ...(document.components?.schemas ?? {}),
      ...components(REQUEST_COMPONENTS, 'input'),
      ...components(RESPONSE_COMPONENTS, 'output'),
    } as NonNullable<OpenAPIObject['components']>['schemas'],
  };
  return document;
}
