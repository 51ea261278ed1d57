import { Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { CurrentActor, RequireRole } from '../auth/auth.guard';
import type { Actor } from '../auth/token-store';
import { API_PREFIX } from '../api.constants';
import { errorSchema, jobIdParams, lockedErrorSchema, validationErrorSchema } from '../openapi/api-schemas';
import { ApiContract, ValidQuery } from '../openapi/contract';
import {
  cancelledSchema,
  executionIdParams,
  executionPageSchema,
  executionSchema,
  listExecutionsQuery,
  reuploadQueuedSchema,
  triggeredSchema,
} from './executions.schemas';
import { ExecutionsService } from './executions.service';

const err = (description: string) => ({ description, schema: errorSchema });

@Controller()
export class ExecutionsController {
  constructor(private readonly executions: ExecutionsService) {}

  @Post('jobs/:id/trigger')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiContract({
    summary: 'Run a job now (manual trigger; does not move its cron slots)',
    params: jobIdParams,
    responses: {
      202: { description: 'queued', schema: triggeredSchema, headers: { Location: 'the execution' } },
      404: err('no such job'),
      409: {
        description: 'a run holds the job lock and the overlap policy forbids another',
        schema: lockedErrorSchema,
      },
    },
  })
  async trigger(@CurrentActor() actor: Actor, @Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    const record = await this.executions.trigger(actor, id);
    res.setHeader('Location', `/${API_PREFIX}/executions/${record.id}`);
    return { executionId: record.id };
  }

  @Get('jobs/:id/executions')
  @RequireRole('viewer')
  @ApiContract({
    summary: "A job's executions, newest first",
    params: jobIdParams,
    query: listExecutionsQuery,
    responses: {
      200: { description: 'a page of executions', schema: executionPageSchema },
      400: { description: 'bad query', schema: validationErrorSchema },
      404: err('no such job'),
    },
  })
  list(@Param('id') id: string, @ValidQuery() query: z.output<typeof listExecutionsQuery>) {
    return this.executions.listForJob(id, query);
  }

  @Get('executions/:id')
  @RequireRole('viewer')
  @ApiContract({
    summary: 'An execution with its logs',
    params: executionIdParams,
    responses: { 200: { description: 'the execution', schema: executionSchema }, 404: err('no such execution') },
  })
  get(@Param('id') id: string) {
    return this.executions.get(id);
  }

  @Post('executions/:id/cancel')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiContract({
    summary: 'Cancel a queued or running execution (a running one ends as cancelled within 2 s)',
    params: executionIdParams,
    responses: {
      202: { description: 'cancelled, or being cancelled by its worker', schema: cancelledSchema },
      404: err('no such execution'),
      409: err('the execution has finished'),
    },
  })
  cancel(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.executions.cancel(actor, id);
  }

  @Post('executions/:id/reupload')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiContract({
    summary: "Upload a finished execution's bundle again, to its job's current destination",
    params: executionIdParams,
    responses: {
      202: { description: 'queued; the outcome lands in the execution (`reupload`)', schema: reuploadQueuedSchema },
      404: err('no such execution'),
      409: err('nothing to re-upload (not finished, no bundle kept, bundle gone, or job deleted)'),
    },
  })
  reupload(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.executions.reupload(actor, id);
  }

  @Get('executions/:id/bundle')
  @RequireRole('viewer')
  @ApiContract({
    summary: 'Download the bundle of an execution (file:// destinations readable by the api)',
    params: executionIdParams,
    responses: { 200: { description: 'the .tar.gz' }, 404: err('no such execution or bundle') },
  })
  async bundle(@Param('id') id: string, @Res() res: Response) {
    const bundle = await this.executions.bundle(id);
    res.setHeader('Content-Type', 'application/gzip');
    res.setHeader('Content-Length', String(bundle.size));
    res.setHeader('Content-Disposition', `attachment; filename="${bundle.name.replace(/"/g, '')}"`);
    bundle.stream.pipe(res);
  }
}
