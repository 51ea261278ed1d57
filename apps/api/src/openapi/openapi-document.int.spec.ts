import request from 'supertest';
import { jobDefinitionInputSchema, jobDefinitionPatchSchema } from '@cronbundle/core';
import { startTestApi, TestApi } from '../test-support/api-test-app';

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<
      string,
      {
        operationId?: string;
        responses?: Record<string, unknown>;
        parameters?: { name: string; in: string }[];
        requestBody?: { content: Record<string, { schema: unknown }> };
      }
    >
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every route express serves from Nest's controllers, as `METHOD /path/{param}`. */
function registeredRoutes(api: TestApi): string[] {
  const express = api.app.getHttpAdapter().getInstance() as {
    router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  };
  const out: string[] = [];
  for (const layer of express.router.stack) {
    // Swagger UI's own routes (/docs, /docs-json, its assets) are not API routes.
    if (!layer.route || /^\/docs(-json|-yaml)?(\/|$)/.test(layer.route.path)) continue;
    const methods = Object.entries(layer.route.methods).filter(([, on]) => on);
    // An every-method layer is middleware Nest mounts with app.all() (Bull Board, excluded prefixes), not a route.
    if (methods.length > 8) continue;
    for (const [method] of methods) {
      out.push(`${method.toUpperCase()} ${layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  }
  return out;
}

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('OpenAPI document at /docs-json (in process)', () => {
  let api: TestApi;
  let doc: Doc;

  beforeAll(async () => {
    api = await startTestApi();
    doc = (await request(api.server).get('/docs-json').expect(200)).body as Doc;
  });
  afterAll(async () => {
    await api?.close();
  });

  it('is a structurally valid OpenAPI 3 document: unique operationIds, responses, resolvable $refs, declared path params', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith('/')).toBe(true);
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        expect(METHODS).toContain(method);
        expect(Object.keys(op.responses ?? {}).length).toBeGreaterThan(0);
        for (const status of Object.keys(op.responses!)) expect(status).toMatch(/^([1-5]\d\d|default)$/);
        if (op.operationId) ids.push(op.operationId);
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared.sort()).toEqual([...pathParams].sort());
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const ref of refs(doc)) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
      expect(m).not.toBeNull();
      expect(doc.components.schemas).toHaveProperty([m![1]]);
    }
  });

  it('lists every route the app serves', () => {
    const routes = registeredRoutes(api);
    expect(routes).toEqual(
      expect.arrayContaining(['POST /api/v1/jobs', 'PATCH /api/v1/jobs/{id}', 'GET /api/v1/audit']),
    );
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    for (const route of routes) expect(documented).toContain(route);
  });

  it('describes bodies and responses with the zod schemas the handlers validate with', () => {
    const { JobInput, JobPatch, Job } = doc.components.schemas;
    expect(Object.keys(JobInput.properties!).sort()).toEqual(Object.keys(jobDefinitionInputSchema.shape).sort());
    expect(Object.keys(JobPatch.properties!).sort()).toEqual(Object.keys(jobDefinitionPatchSchema.shape).sort());
    expect(Object.keys(Job.properties!)).toEqual(expect.arrayContaining(['version', 'source', 'nextRunAt']));
    const create = doc.paths['/api/v1/jobs'].post;
    expect(create.requestBody!.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/JobInput' });
    expect(Object.keys(create.responses!)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '409']));
    const patch = doc.paths['/api/v1/jobs/{id}'].patch;
    expect(patch.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['id', 'If-Match']));
    expect(Object.keys(patch.responses!)).toEqual(expect.arrayContaining(['200', '412', '428']));
    const list = doc.paths['/api/v1/jobs'].get;
    expect(list.parameters!.map((p) => p.name).sort()).toEqual(['cursor', 'enabled', 'label', 'limit', 'q']);
    // Open routes carry no 401.
    expect(doc.paths['/health/live'].get.responses).not.toHaveProperty('401');
  });
});
