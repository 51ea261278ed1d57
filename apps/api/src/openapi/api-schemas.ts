import { z } from 'zod';
import { EXECUTION_STATUSES, JOB_SOURCES, jobDefinitionInputSchema, jobDefinitionPatchSchema } from '@cronbundle/core';

/**
 * Every schema the API validates with or answers with. The OpenAPI document is generated from these
 * same objects (openapi-document.ts), so the docs cannot drift from what the handlers accept.
 */

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be ${min}..${max}`).max(max, `must be ${min}..${max}`));

export const jobIdParams = z.strictObject({ id: z.string().max(256) });

export const listJobsQuery = z.strictObject({
  label: z
    .union([z.string().max(200), z.array(z.string().max(200)).max(20)])
    .optional()
    .describe('`k=v` (has label k with value v) or `k` (has label k); repeat to AND several'),
  enabled: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  q: z.string().max(200).optional().describe('case-insensitive substring of id, name or description'),
  limit: intString(1, 1000).optional().describe('page size, 1..1000, default 50'),
  cursor: z.string().max(512).optional().describe('nextCursor of the previous page'),
});

export const schedulePreviewQuery = z.strictObject({
  cron: z.string().max(256).describe('5 fields, or 6 with seconds; names; @daily-style macros'),
  timezone: z.string().max(64).default('UTC').describe('IANA zone, default UTC'),
  count: intString(1, 100).default(5).describe('1..100, default 5'),
  from: z.iso
    .datetime({ offset: true, message: 'must be an ISO-8601 date-time with a zone' })
    .optional()
    .describe('start after this instant (default now)'),
  repeated: z.enum(['once', 'twice']).default('once').describe('DST fall-back policy'),
  skipped: z.enum(['shift', 'skip']).default('shift').describe('DST spring-forward policy'),
});

export const auditQuery = z.strictObject({
  limit: intString(1, 1000).optional().describe('page size, 1..1000, default 50'),
  cursor: z
    .string()
    .regex(/^\d{1,20}-\d{1,20}$/, 'must be the nextCursor of a previous page')
    .optional(),
});

export const specValidateBody = z
  .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
  .describe('a troubleshoot.sh spec: a document object, a list of documents, or a string of YAML documents');

export const issueSchema = z.object({ path: z.string(), message: z.string() });

export const errorSchema = z.object({
  error: z.string().describe('stable machine-readable code'),
  message: z.string(),
});
export const validationErrorSchema = errorSchema.extend({
  error: z.literal('validation'),
  details: z.array(issueSchema),
});
export const lockedErrorSchema = errorSchema.extend({
  error: z.literal('locked'),
  runningExecutionId: z.string(),
  startedAt: z.string(),
  lockExpiresAt: z.string(),
});

const lastExecutionSchema = z.object({
  id: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  scheduledFor: z.string().nullish(),
  finishedAt: z.string().nullish(),
});

export const jobSchema = z.object({
  ...jobDefinitionInputSchema.shape,
  source: z.enum(JOB_SOURCES),
  version: z.number().int().min(1),
  createdAt: z.string(),
  updatedAt: z.string(),
  nextRunAt: z.string().nullable().describe('next fire time from the schedule; null when disabled or none'),
  lastExecution: lastExecutionSchema.nullish(),
});

export const jobPageSchema = z.object({ items: z.array(jobSchema), nextCursor: z.string().nullable() });

export const jobStatusSchema = z.object({
  job: jobSchema,
  running: z.boolean(),
  lock: z.object({ runningExecutionId: z.string(), startedAt: z.string(), lockExpiresAt: z.string() }).nullable(),
  lastExecution: lastExecutionSchema.nullable(),
  nextRuns: z.array(z.string()).max(5),
});

export const schedulePreviewSchema = z.object({
  cron: z.string(),
  timezone: z.string(),
  next: z.array(z.string()).describe('ISO-8601 instants (UTC)'),
});

export const specValidationSchema = z.object({
  valid: z.boolean(),
  errors: z.array(issueSchema.extend({ document: z.number().int().optional() })),
  adminCollectors: z.array(z.string()).describe('run/exec/copy collectors: saving this spec in a job needs admin'),
});

export const auditEntrySchema = z.object({
  id: z.string(),
  ts: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});
export const auditPageSchema = z.object({ items: z.array(auditEntrySchema), nextCursor: z.string().nullable() });

/** Component names in the OpenAPI document. Request bodies are rendered as input, responses as output. */
export const REQUEST_COMPONENTS = new Map<z.ZodType, string>([
  [jobDefinitionInputSchema, 'JobInput'],
  [jobDefinitionPatchSchema, 'JobPatch'],
  [specValidateBody, 'SpecDocument'],
]);
export const RESPONSE_COMPONENTS = new Map<z.ZodType, string>([
  [jobSchema, 'Job'],
  [jobPageSchema, 'JobPage'],
  [jobStatusSchema, 'JobStatus'],
  [schedulePreviewSchema, 'SchedulePreview'],
  [specValidationSchema, 'SpecValidation'],
  [auditPageSchema, 'AuditPage'],
  [errorSchema, 'Error'],
  [validationErrorSchema, 'ValidationError'],
  [lockedErrorSchema, 'LockedError'],
]);
