import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import {
  applyJobPatch,
  JobDefinition,
  JobDefinitionSpec,
  nextFireTimes,
  ParseJobOptions,
  parseJobDefinition,
  ValidationError,
} from '@cronbundle/core';
import { AuditLog } from '@cronbundle/executions';
import { JobRegistry, ListJobsQuery } from '@cronbundle/registry';
import { Actor } from '../auth/token-store';
import { adminCollectorPaths, jobSpecIssues } from './spec-policy';

export const JOB_PARSE_OPTIONS: ParseJobOptions = { validateSpec: jobSpecIssues };

/** A job as the API shows it: `nextRunAt` computed from its schedule now (null when disabled or none). */
export type JobView = JobDefinition & { nextRunAt: string | null };

export function withNextRun(job: JobDefinition, now = Date.now()): JobView {
  let nextRunAt: string | null = null;
  if (job.enabled) {
    const [next] = nextFireTimes(job.schedule, now, 1);
    if (next !== undefined) nextRunAt = new Date(next).toISOString();
  }
  return { ...job, nextRunAt };
}

/** Job writes with the checks that depend on the caller, and one audit entry per successful mutation. */
@Injectable()
export class JobsService {
  constructor(
    private readonly registry: JobRegistry,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async list(query: ListJobsQuery): Promise<{ items: JobView[]; nextCursor: string | null }> {
    const page = await this.registry.list(query).catch((err: unknown) => {
      // The registry names its own parameters; on the wire they are query parameters.
      if (err instanceof ValidationError)
        throw new ValidationError(err.details.map((d) => ({ ...d, path: `query.${d.path}` })));
      throw err;
    });
    const now = Date.now();
    return { items: page.items.map((j) => withNextRun(j, now)), nextCursor: page.nextCursor };
  }

  async get(id: string): Promise<JobView> {
    return withNextRun(await this.registry.get(id));
  }

  async create(actor: Actor, body: unknown): Promise<JobView> {
    if (actor.role !== 'admin') this.assertMaySave(actor, parseJobDefinition(body, JOB_PARSE_OPTIONS));
    const job = await this.registry.create(body);
    await this.record(actor, 'job.create', job.id, null, job);
    return withNextRun(job);
  }

  async update(actor: Actor, id: string, patch: unknown, expectedVersion: number | undefined): Promise<JobView> {
    const before = await this.registry.get(id);
    if (actor.role !== 'admin') this.assertMaySave(actor, applyJobPatch(before, patch, JOB_PARSE_OPTIONS));
    const after = await this.registry.update(id, patch, { expectedVersion });
    await this.record(actor, 'job.update', id, before, after);
    return withNextRun(after);
  }

  async delete(actor: Actor, id: string, expectedVersion: number | undefined): Promise<void> {
    const before = await this.registry.get(id);
    await this.registry.delete(id, { expectedVersion });
    await this.record(actor, 'job.delete', id, before, null);
  }

  async setEnabled(actor: Actor, id: string, enabled: boolean): Promise<JobView> {
    const before = await this.registry.get(id);
    const after = await this.registry.setEnabled(id, enabled);
    await this.record(actor, enabled ? 'job.enable' : 'job.disable', id, before, after);
    return withNextRun(after);
  }

  /** ARCHITECTURE.md §6: only admin may save specs with run/exec/copy collectors. */
  assertMaySave(actor: Actor, job: JobDefinitionSpec): void {
    if (actor.role === 'admin') return;
    const paths = adminCollectorPaths(job.spec);
    if (job.collector === 'support-bundle') paths.push('collector');
    if (paths.length) {
      throw new ForbiddenException({
        error: 'forbidden',
        message: `only admin may save specs with run, exec or copy collectors or external mode (${paths.join(', ')}); token ${actor.name} has role ${actor.role}`,
        collectors: paths,
      });
    }
  }

  private async record(actor: Actor, action: string, id: string, before: unknown, after: unknown): Promise<void> {
    await this.audit.append({ actor: actor.name, action, target: `job/${id}`, before, after });
  }
}
