import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { CLUSTER_COLLECTOR_SCHEMAS, HOST_COLLECTOR_SCHEMAS } from './collector-schemas';
import { SpecError, parseSpec, validateSpec, type SpecIssue } from './spec-parser';

/**
 * Fuzzing the parser with malformed specs (issue 6: 300+ cases): whatever comes in, parseSpec either
 * returns a spec or throws a SpecError whose issues each carry a path and a message; validateSpec
 * never throws. Where the damage is known (a field added to a collector, a value swapped), the error
 * names that place.
 */

const HOST_YAML = readFileSync(join(__dirname, '..', '..', '..', '..', 'examples', 'specs', 'host.yaml'), 'utf8');
const CLUSTER_SPEC = {
  apiVersion: 'troubleshoot.sh/v1beta2',
  kind: 'SupportBundle',
  metadata: { name: 'svc' },
  spec: {
    collectors: [
      { postgres: { collectorName: 'pg', uri: 'postgresql://u:${env:PW}@db/app' } },
      { mysql: { uri: 'u:p@tcp(db:3306)/app', parameters: ['max_connections'] } },
      { data: { name: 'static', collectorName: 'a.txt', data: 'x' } },
      { http: { collectorName: 'api', get: { url: 'http://api/health', timeout: '5s' } } },
    ],
    hostCollectors: [{ tcpConnect: { address: 'db:5432', timeout: '2s' } }, { run: { command: 'uptime', args: [] } }],
  },
};

type Doc = { spec: Record<string, Record<string, Record<string, unknown>>[]> };

/** Parse, asserting the only way out is a spec or a well-formed SpecError. */
function outcome(input: unknown): { ok: true } | { ok: false; issues: SpecIssue[] } {
  let result: { ok: true } | { ok: false; issues: SpecIssue[] };
  try {
    parseSpec(input as never);
    result = { ok: true };
  } catch (err) {
    if (!(err instanceof SpecError)) throw new Error(`parseSpec threw ${String(err)}`, { cause: err });
    expect(err.errors.length).toBeGreaterThan(0);
    for (const issue of err.errors) {
      expect(typeof issue.path).toBe('string');
      expect(typeof issue.message).toBe('string');
      expect(issue.message.length).toBeGreaterThan(0);
      if (issue.document !== undefined) expect(Number.isInteger(issue.document)).toBe(true);
    }
    result = { ok: false, issues: err.errors };
  }
  const validated = validateSpec(input);
  expect(validated.valid).toBe(result.ok);
  return result;
}

const hostDoc = () => parse(HOST_YAML) as Doc;
const clusterDoc = () => structuredClone(CLUSTER_SPEC) as unknown as Doc;

/** JSON-ish junk for values. */
const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);

const RUNS = 100;

describe('spec parser fuzz', () => {
  it('an unknown field added to any collector entry is reported at exactly its path', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.nat(),
        fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,15}$/),
        junk,
        fc.boolean(),
        (host, pick, field, value, asText) => {
          const doc = host ? hostDoc() : clusterDoc();
          const section = host || pick % 3 === 0 ? 'hostCollectors' : 'collectors';
          const list = doc.spec[section]!;
          const index = pick % list.length;
          const type = Object.keys(list[index]!)[0]!;
          const body = (list[index]![type] ??= {});
          const schemas: Record<string, z.ZodType> =
            section === 'hostCollectors' ? HOST_COLLECTOR_SCHEMAS : CLUSTER_COLLECTOR_SCHEMAS;
          const known = Object.keys((schemas[type] as z.ZodObject).shape);
          fc.pre(!known.includes(field));
          body[field] = value;
          const result = outcome(asText ? stringify(doc) : doc);
          expect(result.ok).toBe(false);
          if (!result.ok)
            expect(result.issues).toContainEqual(
              expect.objectContaining({ path: `spec.${section}[${index}].${type}.${field}` }),
            );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a value swapped anywhere in a collector body gives a spec or errors inside that entry', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.nat(), junk, (host, pick, keyPick, value) => {
        const doc = host ? hostDoc() : clusterDoc();
        const section = host ? 'hostCollectors' : 'collectors';
        const list = doc.spec[section]!;
        const index = pick % list.length;
        const type = Object.keys(list[index]!)[0]!;
        const body = (list[index]![type] ??= {});
        const keys = Object.keys(body);
        fc.pre(keys.length > 0);
        const key = keys[keyPick % keys.length]!;
        body[key] = value;
        const result = outcome(doc);
        if (!result.ok) {
          const entry = `spec.${section}[${index}].${type}`;
          for (const issue of result.issues) expect(issue.path.startsWith(entry)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('truncated or corrupted YAML and JSON text never escapes as anything but a SpecError', () => {
    const texts = [HOST_YAML, stringify(CLUSTER_SPEC), JSON.stringify(CLUSTER_SPEC), JSON.stringify(parse(HOST_YAML))];
    fc.assert(
      fc.property(
        fc.constantFrom(...texts),
        fc.nat(),
        fc.nat(),
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.constantFrom('\t', ':', '- ', '{', '}', '[', ']', '&a', '*a', '!!', '---\n', '"', "'", '\u0000', '%', '|'),
        ),
        fc.constantFrom('truncate', 'insert', 'replace', 'duplicate'),
        (text, at, len, insert, how) => {
          const i = at % (text.length + 1);
          const mutated =
            how === 'truncate'
              ? text.slice(0, i)
              : how === 'insert'
                ? text.slice(0, i) + insert + text.slice(i)
                : how === 'replace'
                  ? text.slice(0, i) + insert + text.slice(i + (len % 20))
                  : `${text}\n---\n${text.slice(0, i)}`;
          outcome(mutated);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('random documents and shapes (objects, arrays, scalars, JSON strings) only ever give SpecErrors', () => {
    const value = fc.letrec((tie) => ({
      leaf: junk,
      node: fc.oneof(
        { depthSize: 'small' },
        tie('leaf'),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(
          fc.constantFrom('cpu', 'http', 'get', 'url', 'port', 'spec', 'uri', '__proto__', 'toString'),
          tie('node'),
          {
            maxKeys: 3,
          },
        ),
      ),
    })).node;
    const doc = fc.record(
      {
        apiVersion: fc.oneof(fc.constantFrom('troubleshoot.sh/v1beta2', 'troubleshoot.sh/v1beta3'), fc.string()),
        kind: fc.oneof(
          fc.constantFrom('SupportBundle', 'HostCollector', 'Collector', 'Redactor', 'Analyzer', 'HostPreflight'),
          value,
        ),
        spec: fc.oneof(
          fc.record(
            {
              hostCollectors: fc.oneof(fc.array(value, { maxLength: 4 }), value),
              collectors: fc.oneof(fc.array(value, { maxLength: 4 }), value),
              analyzers: fc.array(value, { maxLength: 2 }),
              redactors: fc.array(value, { maxLength: 2 }),
              external: value,
            },
            { requiredKeys: [] },
          ),
          value,
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          doc,
          doc.map((d) => JSON.stringify(d)),
          fc.array(doc, { maxLength: 3 }),
          value,
        ),
        (input) => {
          outcome(input);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
