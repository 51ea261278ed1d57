import { z } from 'zod';
import { cronProblems, timezoneProblems } from './cron-schedule';
import { ValidationError, ValidationIssue } from './errors';
import type { ExecutionStatus } from './execution.types';

/** ARCHITECTURE.md §2. Lower-case DNS label: it appears in keys, bundle names and URLs. */
export const JOB_ID_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const LABEL_KEY_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_PATTERN = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;
const CREDENTIALS_REF_PATTERN = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/[^\0]*)$/;
/** Option names that would carry a secret: those belong behind `credentialsRef`. */
const SECRET_OPTION_KEY = /secret|passw|token|credential|authorization|api[-_]?key|access[-_]?key|private[-_]?key/i;

export const OVERLAP_POLICIES = ['skip', 'allow', 'queue', 'cancel-previous'] as const;
/** Who collects: cronbundle's own collectors, or troubleshoot's `support-bundle` binary (external mode). */
export const JOB_COLLECTORS = ['cronbundle', 'support-bundle'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const NOTIFY_EVENTS = [
  'succeeded',
  'failed',
  'timed_out',
  'missed',
  'analysis:fail',
  'analysis:warn',
  'analysis:changed',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export const NOTIFY_FORMATS = ['json', 'slack'] as const;
export const JOB_SOURCES = ['api', 'file'] as const;
export type JobSource = (typeof JOB_SOURCES)[number];
/** Set by the system; refused in create/patch bodies. */
export const JOB_SYSTEM_FIELDS = ['source', 'version', 'createdAt', 'updatedAt', 'nextRunAt', 'lastExecution'] as const;

const MAX_SPEC_STRING = 1_048_576;

/** An inline troubleshoot.sh document; its body is validated by the collect lib, not here. */
export interface InlineSpec {
  apiVersion: string;
  kind: string;
  [key: string]: unknown;
}
export interface SpecRef {
  specRef: string;
}
/** spec: an inline document, a string of YAML documents, or a reference to a stored spec. */
export type JobSpecSource = InlineSpec | string | SpecRef;

export function isSpecRef(spec: JobSpecSource): spec is SpecRef {
  return typeof spec === 'object' && spec !== null && 'specRef' in spec;
}

function specEnvelopeProblems(spec: unknown): { path: (string | number)[]; message: string }[] {
  if (typeof spec === 'string') {
    if (spec.trim() === '') return [{ path: [], message: 'must not be empty' }];
    if (spec.length > MAX_SPEC_STRING)
      return [{ path: [], message: `is too long (max ${MAX_SPEC_STRING} characters)` }];
    return [];
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    return [{ path: [], message: 'must be a spec object, a string of YAML documents, or {"specRef": "..."}' }];
  }
  const obj = spec as Record<string, unknown>;
  if ('specRef' in obj) {
    const extra = Object.keys(obj).filter((k) => k !== 'specRef');
    if (extra.length) return extra.map((k) => ({ path: [k], message: 'unknown field next to specRef' }));
    if (typeof obj.specRef !== 'string' || obj.specRef.trim() === '' || obj.specRef.length > 1024) {
      return [{ path: ['specRef'], message: 'must be a non-empty string (max 1024 characters)' }];
    }
    return [];
  }
  const problems: { path: string[]; message: string }[] = [];
  for (const key of ['apiVersion', 'kind']) {
    if (typeof obj[key] !== 'string' || obj[key] === '')
      problems.push({ path: [key], message: 'must be a non-empty string' });
  }
  return problems;
}

function urlProblems(value: string, schemes: string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a valid URL';
  }
  if (!schemes.includes(url.protocol)) return `scheme must be one of ${schemes.map((s) => `${s}//`).join(', ')}`;
  // Secrets never live in a definition (it is listed, logged and audited): refuse user:pass@.
  if (url.username || url.password) return 'must not embed credentials (user:pass@); use credentialsRef';
  if (url.protocol !== 'file:' && !url.hostname) return 'must name a host (or bucket)';
  return undefined;
}

function secretOptionPaths(value: unknown, path: (string | number)[]): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  const out: (string | number)[][] = [];
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_OPTION_KEY.test(k)) out.push([...path, k]);
    out.push(...secretOptionPaths(v, [...path, k]));
  }
  return out;
}

const isoDateTime = () =>
  z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a zone, e.g. 2026-01-01T00:00:00Z' });

const cronSchema = z.string().superRefine((v, ctx) => {
  for (const p of cronProblems(v, '')) ctx.addIssue({ code: 'custom', message: p.message });
});
const timezoneSchema = z.string().superRefine((v, ctx) => {
  for (const p of timezoneProblems(v, '')) ctx.addIssue({ code: 'custom', message: p.message });
});
const urlSchema = (schemes: string[]) =>
  z.string().superRefine((v, ctx) => {
    const p = urlProblems(v, schemes);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });
const jobIdSchema = z
  .string()
  .regex(
    JOB_ID_PATTERN,
    'must be lower-case letters, digits and dashes (max 63), starting and ending with a letter or digit',
  );

function buildInputSchema(defaultTimezone: string) {
  const schedule = z
    .strictObject({
      cron: cronSchema,
      timezone: timezoneSchema.default(defaultTimezone),
      jitterSeconds: z.number().int().min(0).max(3600).default(0),
      startAt: isoDateTime().nullable().default(null),
      endAt: isoDateTime().nullable().default(null),
      dstPolicy: z
        .strictObject({
          repeated: z.enum(['once', 'twice']).default('once'),
          skipped: z.enum(['shift', 'skip']).default('shift'),
        })
        .prefault({}),
    })
    .superRefine((s, ctx) => {
      if (s.startAt && s.endAt && Date.parse(s.endAt) <= Date.parse(s.startAt)) {
        ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'must be after startAt' });
      }
    });

  const upload = z
    .strictObject({
      url: urlSchema(['s3:', 'http:', 'https:', 'file:']),
      credentialsRef: z.string().regex(CREDENTIALS_REF_PATTERN, 'must be env:NAME or file:/absolute/path').optional(),
      options: z.record(z.string(), z.unknown()).default({}),
    })
    .superRefine((u, ctx) => {
      for (const path of secretOptionPaths(u.options, ['options'])) {
        ctx.addIssue({ code: 'custom', path, message: 'looks like a secret; put it behind credentialsRef' });
      }
    });

  const notifyTarget = z.strictObject({
    url: urlSchema(['http:', 'https:']),
    format: z.enum(NOTIFY_FORMATS).default('json'),
    on: z
      .array(z.enum(NOTIFY_EVENTS))
      .min(1)
      .max(NOTIFY_EVENTS.length)
      .default(['failed', 'timed_out', 'missed', 'analysis:fail']),
  });

  const spec = z
    .custom<JobSpecSource>(() => true)
    .superRefine((v, ctx) => {
      for (const p of specEnvelopeProblems(v)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    });

  return z
    .strictObject({
      id: jobIdSchema,
      name: z.string().trim().max(200).default(''),
      description: z.string().max(4000).default(''),
      labels: z
        .record(
          z.string().regex(LABEL_KEY_PATTERN, 'label keys: letters, digits, . _ / - (max 63)'),
          z.string().regex(LABEL_VALUE_PATTERN, 'label values: letters, digits, . _ - (max 63)'),
        )
        .refine((l) => Object.keys(l).length <= 64, 'at most 64 labels')
        .default({}),
      schedule,
      enabled: z.boolean().default(true),
      overlapPolicy: z.enum(OVERLAP_POLICIES).default('skip'),
      // Unset means cronbundle; `support-bundle` hands the spec to troubleshoot's binary (docs/COLLECTORS.md).
      collector: z.enum(JOB_COLLECTORS).optional(),
      catchupWindowSeconds: z
        .number()
        .int()
        .min(0)
        .max(30 * 86400)
        .default(0),
      timeoutSeconds: z.number().int().min(1).max(86400).default(1800),
      limits: z
        .strictObject({
          // Unset: the worker's MAX_BUNDLE_BYTES applies.
          maxBundleBytes: z
            .number()
            .int()
            .min(1024)
            .max(2 ** 40)
            .optional(),
        })
        .prefault({}),
      retry: z
        .strictObject({
          attempts: z.number().int().min(1).max(20).default(3),
          backoffSeconds: z.number().int().min(0).max(86400).default(30),
        })
        .prefault({}),
      spec: spec.optional(),
      redact: z.boolean().default(true),
      analyze: z.boolean().default(true),
      upload: upload.optional(),
      notify: z.array(notifyTarget).max(20).default([]),
      retention: z
        .strictObject({
          executions: z.number().int().min(1).max(100_000).default(100),
          days: z.number().int().min(1).max(3650).default(30),
          bundles: z.number().int().min(0).max(100_000).default(50),
        })
        .prefault({}),
      dependsOn: z
        .array(jobIdSchema)
        .max(20)
        .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a job id')
        .default([]),
    })
    .superRefine((job, ctx) => {
      const self = job.dependsOn.indexOf(job.id);
      if (self >= 0)
        ctx.addIssue({ code: 'custom', path: ['dependsOn', self], message: 'a job cannot depend on itself' });
    });
}

/** Create body (defaults applied, timezone defaulting to UTC). Use parseJobDefinition to pick the default zone. */
export const jobDefinitionInputSchema = buildInputSchema('UTC');

/**
 * The patch variant of a field: no defaults (a patch must never reset what it does not mention),
 * every key optional and nullable (null removes, RFC 7396), objects still strict.
 */
function patchify(schema: z.ZodType): z.ZodType {
  let inner: z.ZodType = schema;
  for (;;) {
    if (
      inner instanceof z.ZodDefault ||
      inner instanceof z.ZodPrefault ||
      inner instanceof z.ZodOptional ||
      inner instanceof z.ZodNullable
    ) {
      inner = inner.unwrap() as z.ZodType;
    } else break;
  }
  if (inner instanceof z.ZodObject) {
    const shape: Record<string, z.ZodType> = {};
    for (const [k, v] of Object.entries(inner.shape as Record<string, z.ZodType>)) shape[k] = patchify(v);
    inner = z.strictObject(shape);
  } else if (inner instanceof z.ZodRecord) {
    inner = z.record(z.string(), patchify(inner.valueType as z.ZodType));
  }
  return inner.nullable().optional();
}

/**
 * Patch body: every field optional, no defaults, `id` absent (immutable). applyJobPatch merges it
 * (JSON merge patch) and validates the result as a whole.
 */
export const jobDefinitionPatchSchema = (() => {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(jobDefinitionInputSchema.shape as Record<string, z.ZodType>)) {
    if (k !== 'id') shape[k] = patchify(v);
  }
  return z.strictObject(shape);
})();

/** What a client sends to create a job. */
export type JobDefinitionInput = z.input<typeof jobDefinitionInputSchema>;
/** A validated definition with defaults applied: everything but the system fields. */
export type JobDefinitionSpec = z.output<typeof jobDefinitionInputSchema>;
export type JobSchedule = JobDefinitionSpec['schedule'];
type Patch<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: Patch<T[K]> | null } : T;
/** A JSON merge patch of a definition (null removes a field, restoring its default). */
export type JobDefinitionPatch = Patch<Omit<JobDefinitionInput, 'id'>>;

export interface LastExecutionSummary {
  id: string;
  status: ExecutionStatus;
  scheduledFor?: string | null;
  finishedAt?: string | null;
}

export interface JobSystemFields {
  source: JobSource;
  /** Starts at 1, +1 on every write; the optimistic-concurrency token (If-Match). */
  version: number;
  createdAt: string;
  updatedAt: string;
  nextRunAt?: string | null;
  lastExecution?: LastExecutionSummary | null;
}

/** A stored job definition. */
export type JobDefinition = JobDefinitionSpec & JobSystemFields;

export interface ParseJobOptions {
  /** SCHEDULER_DEFAULT_TIMEZONE; applied when schedule.timezone is absent. Default UTC. */
  defaultTimezone?: string;
  /** Deep spec validation (the collect lib's parser); its paths are relative to `spec`. */
  validateSpec?: (spec: JobSpecSource) => ValidationIssue[];
}

const schemaCache = new Map<string, ReturnType<typeof buildInputSchema>>();

function inputSchemaFor(defaultTimezone: string) {
  let s = schemaCache.get(defaultTimezone);
  if (!s) {
    if (timezoneProblems(defaultTimezone).length)
      throw new Error(`default time zone ${defaultTimezone} is not a known IANA zone`);
    schemaCache.set(defaultTimezone, (s = buildInputSchema(defaultTimezone)));
  }
  return s;
}

/** `a.b[0].c` */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function joinPath(prefix: string, path: string): string {
  if (!path) return prefix;
  if (!prefix) return path;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

export function zodIssues(error: z.ZodError, prefix = ''): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const path = formatIssuePath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: joinPath(prefix, joinPath(path, key)), message: 'unknown field' });
    } else {
      out.push({ path: joinPath(prefix, path), message: issue.message });
    }
  }
  return out;
}

function systemFieldIssues(input: unknown): ValidationIssue[] {
  if (typeof input !== 'object' || input === null) return [];
  return JOB_SYSTEM_FIELDS.filter((f) => f in input).map((f) => ({
    path: f,
    message: 'is read-only (set by the system)',
  }));
}

function stripSystemFields(input: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...input };
  for (const f of JOB_SYSTEM_FIELDS) delete copy[f];
  return copy;
}

/**
 * Validate a create body (or a YAML document from JOBS_DIR) and apply defaults. Throws
 * ValidationError listing every problem with its path (`schedule.cron`, `notify[0].url`).
 */
export function parseJobDefinition(input: unknown, options: ParseJobOptions = {}): JobDefinitionSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError([{ path: '', message: 'a job definition must be a JSON object' }]);
  }
  const issues = systemFieldIssues(input);
  const result = inputSchemaFor(options.defaultTimezone ?? 'UTC').safeParse(
    stripSystemFields(input as Record<string, unknown>),
  );
  if (!result.success) issues.push(...zodIssues(result.error));
  if (issues.length) throw new ValidationError(issues);
  const job = result.data!;
  if (options.validateSpec && job.spec !== undefined) {
    const specIssues = options
      .validateSpec(job.spec)
      .map((i) => ({ path: joinPath('spec', i.path), message: i.message }));
    if (specIssues.length) throw new ValidationError(specIssues);
  }
  return job;
}

/** Keys whose value a patch replaces whole instead of merging into (a spec is one document). */
const REPLACE_WHOLE = new Set(['spec', 'notify', 'dependsOn']);

function mergePatch(target: unknown, patch: unknown, depth: number, key?: string): unknown {
  if (
    typeof patch !== 'object' ||
    patch === null ||
    Array.isArray(patch) ||
    (key && depth === 1 && REPLACE_WHOLE.has(key))
  ) {
    return patch;
  }
  const base: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v, depth + 1, k);
  }
  return base;
}

/**
 * Apply a JSON merge patch (RFC 7396; `null` removes, so a removed field falls back to its default)
 * to a definition and validate the result. `spec`, `notify` and `dependsOn` are replaced whole.
 * `id` and system fields are refused.
 */
export function applyJobPatch(
  current: JobDefinitionSpec,
  patch: unknown,
  options: ParseJobOptions = {},
): JobDefinitionSpec {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new ValidationError([{ path: '', message: 'a patch must be a JSON object' }]);
  }
  const issues = systemFieldIssues(patch);
  if ('id' in patch && (patch as { id: unknown }).id !== current.id)
    issues.push({ path: 'id', message: 'is immutable' });
  const { id: _id, ...rest } = stripSystemFields(patch as Record<string, unknown>);
  void _id;
  const shape = jobDefinitionPatchSchema.safeParse(rest);
  if (!shape.success) issues.push(...zodIssues(shape.error));
  if (issues.length) throw new ValidationError(issues);
  const base = stripSystemFields(current as unknown as Record<string, unknown>);
  return parseJobDefinition(mergePatch(base, rest, 0), options);
}
