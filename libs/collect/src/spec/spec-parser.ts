import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import {
  ADMIN_COLLECTOR_TYPES,
  ANALYZER_TYPES,
  CLUSTER_COLLECTOR_SCHEMAS,
  HOST_COLLECTOR_SCHEMAS,
  analyzerBodySchema,
  redactorSchema,
  type RedactorSpec,
} from './collector-schemas';

export interface SpecIssue {
  /** Relative to the document, troubleshoot style: `spec.hostCollectors[3].tcpPortStatus.port`. */
  path: string;
  message: string;
  /** 0-based document index, present when the input had more than one document. */
  document?: number;
}

export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(readonly errors: SpecIssue[]) {
    super(
      `invalid spec: ${errors.slice(0, 3).map(formatIssue).join('; ')}${errors.length > 3 ? ` (+${errors.length - 3} more)` : ''}`,
    );
  }
}

function formatIssue(issue: SpecIssue): string {
  const where = `${issue.document !== undefined ? `document ${issue.document}: ` : ''}${issue.path}`;
  return where ? `${where}: ${issue.message}` : issue.message;
}

/** One troubleshoot entry: an object with exactly one key, the type, holding the body. */
export type SpecEntry = Readonly<Record<string, Record<string, unknown>>>;

export interface NormalizedSpec {
  hostCollectors: SpecEntry[];
  collectors: SpecEntry[];
  hostAnalyzers: SpecEntry[];
  analyzers: SpecEntry[];
  redactors: RedactorSpec[];
  /**
   * cronbundle's extension `spec.external: true` (SupportBundle documents): hand the spec to
   * troubleshoot's `support-bundle` binary instead of running cronbundle's collectors.
   */
  external?: boolean;
}

export type SpecInput = string | Record<string, unknown> | readonly unknown[];

export const SPEC_API_VERSIONS = ['troubleshoot.sh/v1beta2', 'troubleshoot.sh/v1beta3'] as const;
export const SPEC_KINDS = [
  'SupportBundle',
  'HostCollector',
  'Collector',
  'Redactor',
  'Analyzer',
  'Preflight',
  'HostPreflight',
] as const;
type Kind = (typeof SPEC_KINDS)[number];
type Section = 'host' | 'cluster' | 'analyzer' | 'redactor';
type Target = keyof NormalizedSpec;

/** Which `spec.<field>` of each kind feeds which part of the merged spec. */
const KIND_FIELDS: Record<Kind, Record<string, [Target, Section]>> = {
  SupportBundle: {
    hostCollectors: ['hostCollectors', 'host'],
    collectors: ['collectors', 'cluster'],
    hostAnalyzers: ['hostAnalyzers', 'analyzer'],
    analyzers: ['analyzers', 'analyzer'],
    redactors: ['redactors', 'redactor'],
  },
  HostCollector: { collectors: ['hostCollectors', 'host'], analyzers: ['hostAnalyzers', 'analyzer'] },
  HostPreflight: { collectors: ['hostCollectors', 'host'], analyzers: ['hostAnalyzers', 'analyzer'] },
  Collector: { collectors: ['collectors', 'cluster'] },
  Preflight: { collectors: ['collectors', 'cluster'], analyzers: ['analyzers', 'analyzer'] },
  Analyzer: { analyzers: ['analyzers', 'analyzer'], hostAnalyzers: ['hostAnalyzers', 'analyzer'] },
  Redactor: { redactors: ['redactors', 'redactor'] },
};

const MAX_INPUT_CHARS = 5 * 1024 * 1024;

const documentSchema = z.object({
  apiVersion: z.enum(SPEC_API_VERSIONS, { error: `must be one of ${SPEC_API_VERSIONS.join(', ')}` }),
  kind: z.enum(SPEC_KINDS, { error: `must be one of ${SPEC_KINDS.join(', ')}` }),
  metadata: z.looseObject({ name: z.string().optional() }).nullish(),
  spec: z.record(z.string(), z.unknown()).nullish(),
});

/** Parse and validate a troubleshoot spec (YAML documents, JSON, or objects) into one merged spec. */
export function parseSpec(input: SpecInput): { spec: NormalizedSpec } {
  const documents = loadDocuments(input);
  const issues: SpecIssue[] = [];
  const spec: NormalizedSpec = { hostCollectors: [], collectors: [], hostAnalyzers: [], analyzers: [], redactors: [] };
  documents.forEach((doc, index) => {
    const docIssues: Omit<SpecIssue, 'document'>[] = [];
    normalizeDocument(doc, spec, docIssues);
    for (const issue of docIssues) issues.push(documents.length > 1 ? { ...issue, document: index } : issue);
  });
  if (issues.length > 0) throw new SpecError(issues);
  return { spec };
}

/** Like parseSpec, for the API's `POST /specs/validate`: never throws. */
export function validateSpec(input: unknown): { valid: boolean; errors: SpecIssue[] } {
  try {
    parseSpec(input as SpecInput);
    return { valid: true, errors: [] };
  } catch (err) {
    if (err instanceof SpecError) return { valid: false, errors: err.errors };
    return { valid: false, errors: [{ path: '', message: err instanceof Error ? err.message : String(err) }] };
  }
}

/** True when the spec runs commands or copies host files (ARCHITECTURE §6: admin only). */
export function requiresAdmin(spec: NormalizedSpec): boolean {
  // External mode runs troubleshoot's binary, which executes run/copy collectors without our checks.
  if (spec.external) return true;
  return [...spec.hostCollectors, ...spec.collectors].some((entry) => ADMIN_COLLECTOR_TYPES.has(entryType(entry)));
}

export function entryType(entry: SpecEntry): string {
  return Object.keys(entry)[0] ?? '';
}

export function entryBody(entry: SpecEntry): Record<string, unknown> {
  return entry[entryType(entry)] ?? {};
}

function loadDocuments(input: unknown): unknown[] {
  if (typeof input === 'string') {
    if (input.length > MAX_INPUT_CHARS)
      throw new SpecError([{ path: '', message: `spec is larger than ${MAX_INPUT_CHARS} characters` }]);
    let parsed;
    try {
      parsed = parseAllDocuments(input, { prettyErrors: false });
    } catch (err) {
      throw new SpecError([{ path: '', message: `not valid YAML or JSON: ${errorText(err)}` }]);
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    const issues: SpecIssue[] = [];
    const documents: unknown[] = [];
    list.forEach((doc, index) => {
      const first = doc.errors[0];
      if (first) {
        issues.push({
          path: '',
          message: `not valid YAML or JSON: ${first.message.split('\n')[0]}`,
          ...(list.length > 1 ? { document: index } : {}),
        });
        return;
      }
      try {
        const value: unknown = doc.toJS({ maxAliasCount: 100 });
        if (value !== null && value !== undefined) documents.push(value);
      } catch (err) {
        issues.push({
          path: '',
          message: `not valid YAML: ${errorText(err)}`,
          ...(list.length > 1 ? { document: index } : {}),
        });
      }
    });
    if (issues.length > 0) throw new SpecError(issues);
    if (documents.length === 0) throw new SpecError([{ path: '', message: 'spec is empty' }]);
    return documents;
  }
  if (Array.isArray(input)) {
    if (input.length === 0) throw new SpecError([{ path: '', message: 'spec is empty' }]);
    return input;
  }
  if (input !== null && typeof input === 'object') return [input];
  throw new SpecError([{ path: '', message: 'spec must be a YAML or JSON string or an object' }]);
}

function normalizeDocument(doc: unknown, spec: NormalizedSpec, issues: Omit<SpecIssue, 'document'>[]): void {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    issues.push({ path: '', message: 'document must be a mapping with apiVersion, kind and spec' });
    return;
  }
  const header = documentSchema.safeParse(doc);
  if (!header.success) {
    issues.push(...zodIssues(header.error, ''));
    return;
  }
  const body = header.data.spec ?? {};
  if (body.external !== undefined && body.external !== null) {
    if (header.data.kind !== 'SupportBundle')
      issues.push({ path: 'spec.external', message: 'only a SupportBundle document may set external' });
    else if (typeof body.external !== 'boolean')
      issues.push({ path: 'spec.external', message: 'must be true or false' });
    else if (body.external) spec.external = true;
  }
  for (const [field, [target, section]] of Object.entries(KIND_FIELDS[header.data.kind])) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    const path = `spec.${field}`;
    if (!Array.isArray(value)) {
      issues.push({ path, message: 'must be a list' });
      continue;
    }
    value.forEach((item: unknown, index) => {
      const at = `${path}[${index}]`;
      if (section === 'redactor') {
        const parsed = redactorSchema.safeParse(item);
        if (parsed.success) spec.redactors.push(parsed.data);
        else issues.push(...zodIssues(parsed.error, at));
        return;
      }
      const entry = normalizeEntry(item, section, at, issues);
      if (entry) (spec[target] as SpecEntry[]).push(entry);
    });
  }
}

function normalizeEntry(
  item: unknown,
  section: Exclude<Section, 'redactor'>,
  at: string,
  issues: Omit<SpecIssue, 'document'>[],
): SpecEntry | undefined {
  const what = section === 'host' ? 'host collector' : section === 'cluster' ? 'collector' : 'analyzer';
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    issues.push({ path: at, message: `must be an object with one key naming the ${what} type` });
    return undefined;
  }
  const keys = Object.keys(item);
  if (keys.length !== 1) {
    issues.push({
      path: at,
      message: `must have exactly one key naming the ${what} type, found ${keys.length === 0 ? 'none' : keys.join(', ')}`,
    });
    return undefined;
  }
  const type = keys[0]!;
  const rawBody = (item as Record<string, unknown>)[type];
  const body = rawBody === null || rawBody === undefined ? {} : rawBody;
  let schema: z.ZodType<Record<string, unknown>> | undefined;
  let known: string[];
  if (section === 'analyzer') {
    known = [...ANALYZER_TYPES];
    schema = ANALYZER_TYPES.includes(type) ? analyzerBodySchema : undefined;
  } else {
    const table: Record<string, z.ZodType<Record<string, unknown>>> = section === 'host'
      ? HOST_COLLECTOR_SCHEMAS
      : CLUSTER_COLLECTOR_SCHEMAS;
    known = Object.keys(table);
    schema = Object.hasOwn(table, type) ? table[type] : undefined;
  }
  if (!schema) {
    issues.push({ path: `${at}.${type}`, message: `unknown ${what} type "${type}" (known: ${known.join(', ')})` });
    return undefined;
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const fields = schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : undefined;
    issues.push(
      ...zodIssues(parsed.error, `${at}.${type}`, fields ? `${type} accepts ${fields.join(', ')}` : undefined),
    );
    return undefined;
  }
  return { [type]: parsed.data };
}

/** `accepted` names the body's fields, for unknown fields at the top of a collector body. */
function zodIssues(error: z.ZodError, prefix: string, accepted?: string): Omit<SpecIssue, 'document'>[] {
  return error.issues.flatMap((issue) =>
    // One issue per unknown field, at the field's own path (`….tcpPortStatus.bogus`).
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: joinPath(prefix, [...issue.path, key]),
          message: issue.path.length === 0 && accepted ? `unknown field (${accepted})` : 'unknown field',
        }))
      : [{ path: joinPath(prefix, issue.path), message: issue.message }],
  );
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
