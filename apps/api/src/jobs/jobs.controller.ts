import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { jobDefinitionInputSchema, jobDefinitionPatchSchema, nextFireTimes } from '@cronbundle/core';
import { CurrentActor, RequireRole } from '../auth/auth.guard';
import type { Actor } from '../auth/token-store';
import {
  errorSchema,
  jobIdParams,
  jobPageSchema,
  jobSchema,
  jobStatusSchema,
  listJobsQuery,
  validationErrorSchema,
} from '../openapi/api-schemas';
import { ApiContract, ValidQuery } from '../openapi/contract';
import { etag, expectedVersion } from './if-match';
import { JobsService, JobView } from './jobs.service';
import { z } from 'zod';

const err = (description: string) => ({ description, schema: errorSchema });
const invalid = { description: 'validation failed; details name each path', schema: validationErrorSchema };
const ifMatch = (required: boolean) => ({
  name: 'If-Match',
  required,
  description: required
    ? 'the version the change is based on (428 when missing, 412 when stale; * for any)'
    : 'optional: delete only if still at this version (412 otherwise)',
});
const jobResponse = { description: 'the job', schema: jobSchema, headers: { ETag: 'the job version, for If-Match' } };

@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @RequireRole('admin')
  @ApiContract({
    summary: 'Create a job',
    body: { schema: jobDefinitionInputSchema, required: true },
    responses: { 201: jobResponse, 400: invalid, 409: err('a job with this id exists') },
  })
  async create(@CurrentActor() actor: Actor, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    return this.sendJob(res, await this.jobs.create(actor, body));
  }

  @Get()
  @RequireRole('viewer')
  @ApiContract({
    summary: 'List jobs (filters are ANDed; pages in id order)',
    query: listJobsQuery,
    responses: { 200: { description: 'a page of jobs', schema: jobPageSchema }, 400: invalid },
  })
  list(@ValidQuery() query: z.output<typeof listJobsQuery>) {
    return this.jobs.list({
      ...query,
      enabled: query.enabled === undefined ? undefined : query.enabled === 'true',
    });
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiContract({ summary: 'Get a job', params: jobIdParams, responses: { 200: jobResponse, 404: err('no such job') } })
  async get(@Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    return this.sendJob(res, await this.jobs.get(id));
  }

  @Patch(':id')
  @RequireRole('admin')
  @ApiContract({
    summary: 'Change a job (JSON merge patch: null removes a field; spec, notify, dependsOn are replaced whole)',
    params: jobIdParams,
    headers: [ifMatch(true)],
    body: { schema: jobDefinitionPatchSchema, required: true },
    responses: {
      200: jobResponse,
      400: invalid,
      404: err('no such job'),
      409: err('the job is managed by a file in JOBS_DIR'),
      412: err('If-Match is not the current version'),
      428: err('If-Match is missing'),
    },
  })
  async update(
    @CurrentActor() actor: Actor,
    @Param('id') id: string,
    @Headers('if-match') ifMatchHeader: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const version = expectedVersion(ifMatchHeader, true);
    return this.sendJob(res, await this.jobs.update(actor, id, body, version));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiContract({
    summary: 'Delete a job',
    params: jobIdParams,
    headers: [ifMatch(false)],
    responses: {
      204: { description: 'deleted' },
      404: err('no such job'),
      409: err('the job is managed by a file in JOBS_DIR'),
      412: err('If-Match is not the current version'),
    },
  })
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string, @Headers('if-match') ifMatchHeader?: string) {
    await this.jobs.delete(actor, id, expectedVersion(ifMatchHeader, false));
  }

  @Post(':id/enable')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiContract({
    summary: 'Enable a job',
    params: jobIdParams,
    responses: { 200: jobResponse, 404: err('no such job') },
  })
  async enable(@CurrentActor() actor: Actor, @Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    return this.sendJob(res, await this.jobs.setEnabled(actor, id, true));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiContract({
    summary: 'Disable a job',
    params: jobIdParams,
    responses: { 200: jobResponse, 404: err('no such job') },
  })
  async disable(@CurrentActor() actor: Actor, @Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    return this.sendJob(res, await this.jobs.setEnabled(actor, id, false));
  }

  @Get(':id/status')
  @RequireRole('viewer')
  @ApiContract({
    summary: 'A job with its run state and next five fire times',
    description: "`running` and `lock` report the job's run lock once the worker holds one.",
    params: jobIdParams,
    responses: { 200: { description: 'status', schema: jobStatusSchema }, 404: err('no such job') },
  })
  async status(@Param('id') id: string) {
    const job = await this.jobs.get(id);
    const nextRuns = job.enabled
      ? nextFireTimes(job.schedule, Date.now(), 5).map((t) => new Date(t).toISOString())
      : [];
    return { job, running: false, lock: null, lastExecution: job.lastExecution ?? null, nextRuns };
  }

  private sendJob(res: Response, job: JobView): JobView {
    res.setHeader('ETag', etag(job.version));
    return job;
  }
}
