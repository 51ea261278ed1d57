import { isSpecRef, JobSpecSource, ValidationIssue } from '@cronbundle/core';
import { ADMIN_COLLECTOR_TYPES, entryType, parseSpec, SpecIssue, validateSpec } from '@cronbundle/collect';

/** Issues of a troubleshoot spec, for core's parseJobDefinition `validateSpec` option (paths relative to `spec`). */
export function jobSpecIssues(spec: JobSpecSource): ValidationIssue[] {
  if (isSpecRef(spec)) return []; // a reference is resolved and validated when it runs
  return validateSpec(spec).errors.map(toIssue);
}

export function toIssue(e: SpecIssue): ValidationIssue {
  return { path: e.path, message: e.document !== undefined ? `document ${e.document}: ${e.message}` : e.message };
}

/**
 * Where a spec uses a collector only admins may save (run, exec, copy), e.g.
 * `spec.hostCollectors[0].run`, or `spec.external` (troubleshoot's binary runs its own `run` and
 * `copy` collectors, outside the worker's allowlists). Empty for a reference or an invalid spec (validation reports that).
 */
export function adminCollectorPaths(spec: unknown): string[] {
  if (spec === undefined || spec === null || (typeof spec === 'object' && isSpecRef(spec as JobSpecSource))) return [];
  let parsed;
  try {
    parsed = parseSpec(spec as Parameters<typeof parseSpec>[0]).spec;
  } catch {
    return [];
  }
  const out: string[] = parsed.external ? ['spec.external'] : [];
  for (const section of ['hostCollectors', 'collectors'] as const) {
    parsed[section].forEach((entry, i) => {
      const type = entryType(entry);
      if (ADMIN_COLLECTOR_TYPES.has(type)) out.push(`spec.${section}[${i}].${type}`);
    });
  }
  return out;
}
