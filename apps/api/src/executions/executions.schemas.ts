import { z } from 'zod';
import { EXECUTION_STATUSES, STAGE_NAMES, TRIGGERS } from '@cronbundle/core';

export const executionIdParams = z.strictObject({ id: z.string().max(64) });

export const listExecutionsQuery = z.strictObject({
  status: z.enum(EXECUTION_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(128).optional(),
});

const attemptSchema = z.object({
  attempt: z.number(),
  workerId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  status: z.string(),
  error: z.string().optional(),
});

/** ARCHITECTURE.md §3, plus the attempts of the run. */
export const executionSchema = z.object({
  id: z.string(),
  jobId: z.string(),
  trigger: z.enum(TRIGGERS),
  scheduledFor: z.string().nullable(),
  queuedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  status: z.enum(EXECUTION_STATUSES),
  reason: z.string().nullish(),
  attempt: z.number(),
  workerId: z.string().nullable(),
  stages: z.partialRecord(z.enum(STAGE_NAMES), z.object({ ms: z.number() })),
  collectors: z.object({ total: z.number(), failed: z.number() }).optional(),
  bundle: z.object({ name: z.string(), sizeBytes: z.number(), sha256: z.string(), files: z.number() }).optional(),
  upload: z.object({ url: z.string(), ms: z.number() }).optional(),
  error: z.object({ stage: z.string(), message: z.string() }).nullable(),
  attempts: z.array(attemptSchema),
  jitterMs: z.number().optional(),
  reupload: z
    .object({
      status: z.enum(['queued', 'succeeded', 'failed']),
      requestedAt: z.string(),
      requestedBy: z.string(),
      from: z.string(),
      url: z.string().optional(),
      ms: z.number().optional(),
      finishedAt: z.string().optional(),
      error: z.string().optional(),
    })
    .optional(),
  logs: z.array(z.object({ ts: z.string(), level: z.string(), component: z.string(), message: z.string() })).optional(),
});

export const executionPageSchema = z.object({ items: z.array(executionSchema), nextCursor: z.string().nullable() });
export const triggeredSchema = z.object({ executionId: z.string() });
export const cancelledSchema = z.object({ executionId: z.string(), status: z.enum(['cancelled', 'cancelling']) });
export const reuploadQueuedSchema = z.object({
  executionId: z.string(),
  status: z.literal('queued'),
  requestedAt: z.string(),
  from: z.string(),
});
