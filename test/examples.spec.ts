import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateSpec } from '@cronbundle/collect';
import { JobsDirectorySource } from '@cronbundle/registry';

const ROOT = join(__dirname, '..');

describe('examples', () => {
  it('examples/jobs holds valid definitions (what `cronbundle up` loads)', async () => {
    const source = new JobsDirectorySource({
      dir: join(ROOT, 'examples', 'jobs'),
      sink: {
        syncFileJobs: async () => ({ created: [], updated: [], deleted: [], unchanged: [], conflicts: [] }) as never,
      },
      defaultTimezone: 'UTC',
      validateSpec: (spec) => validateSpec(spec).errors.map((e) => ({ path: e.path, message: e.message })),
      watch: false,
    });
    const load = await source.load();
    expect(load.errors).toEqual([]);
    expect(load.definitions.map((d) => d.id).sort()).toEqual(['api-health', 'host-facts']);
  });

  it('examples/specs/host.yaml is a valid troubleshoot spec', () => {
    const result = validateSpec(readFileSync(join(ROOT, 'examples', 'specs', 'host.yaml'), 'utf8'));
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
