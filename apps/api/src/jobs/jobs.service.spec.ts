import { ForbiddenException } from '@nestjs/common';
import { parseJobDefinition } from '@cronbundle/core';
import type { AuditLog } from '@cronbundle/executions';
import type { JobRegistry } from '@cronbundle/registry';
import { JobsService, JOB_PARSE_OPTIONS, withNextRun } from './jobs.service';

const job = (hostCollectors: unknown[]) =>
  parseJobDefinition(
    {
      id: 'j',
      schedule: { cron: '0 2 * * *' },
      spec: { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { hostCollectors } },
    },
    JOB_PARSE_OPTIONS,
  );

describe('JobsService', () => {
  // Stubs: assertMaySave touches neither port.
  const service = new JobsService({} as JobRegistry, {} as AuditLog);

  it('refuses run/exec/copy collectors to non-admins, naming each collector path', () => {
    const risky = job([
      { cpu: {} },
      { run: { collectorName: 'x', command: 'uptime' } },
      { copy: { path: '/etc/hosts' } },
    ]);
    expect(() => service.assertMaySave({ name: 'ci', role: 'operator' }, risky)).toThrow(ForbiddenException);
    try {
      service.assertMaySave({ name: 'ci', role: 'operator' }, risky);
    } catch (err) {
      const body = (err as ForbiddenException).getResponse() as { message: string; collectors: string[] };
      expect(body.collectors).toEqual(['spec.hostCollectors[1].run', 'spec.hostCollectors[2].copy']);
      expect(body.message).toContain('spec.hostCollectors[1].run');
    }
    expect(() => service.assertMaySave({ name: 'root', role: 'admin' }, risky)).not.toThrow();
    expect(() => service.assertMaySave({ name: 'ci', role: 'operator' }, job([{ cpu: {} }]))).not.toThrow();
  });

  it('computes nextRunAt from the schedule, null when disabled', () => {
    const base = { ...job([{ cpu: {} }]), source: 'api' as const, version: 1, createdAt: '', updatedAt: '' };
    const now = Date.parse('2026-03-07T12:00:00Z');
    expect(withNextRun(base, now).nextRunAt).toBe('2026-03-08T02:00:00.000Z');
    expect(withNextRun({ ...base, enabled: false }, now).nextRunAt).toBeNull();
  });
});
