import { ValidationError, ValidationIssue } from './errors';
import {
  applyJobPatch,
  jobDefinitionPatchSchema,
  JobDefinitionSpec,
  parseJobDefinition,
} from './job-definition.schema';

const minimal = { id: 'daily-check', schedule: { cron: '0 2 * * *' } };

function issuesOf(fn: () => unknown): ValidationIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).details;
  }
  throw new Error('expected a ValidationError');
}

describe('parseJobDefinition', () => {
  it('applies every default from ARCHITECTURE.md §2, timezone from the option', () => {
    const job = parseJobDefinition(minimal, { defaultTimezone: 'America/New_York' });
    expect(job).toEqual({
      id: 'daily-check',
      name: '',
      description: '',
      labels: {},
      schedule: {
        cron: '0 2 * * *',
        timezone: 'America/New_York',
        jitterSeconds: 0,
        startAt: null,
        endAt: null,
        dstPolicy: { repeated: 'once', skipped: 'shift' },
      },
      enabled: true,
      overlapPolicy: 'skip',
      catchupWindowSeconds: 0,
      timeoutSeconds: 1800,
      limits: {},
      retry: { attempts: 3, backoffSeconds: 30 },
      redact: true,
      analyze: true,
      notify: [],
      retention: { executions: 100, days: 30, bundles: 50 },
      dependsOn: [],
    });
    expect(parseJobDefinition(minimal).schedule.timezone).toBe('UTC');
  });

  it('accepts the full example of §2', () => {
    const job = parseJobDefinition({
      id: 'daily-check',
      name: 'Daily check',
      description: '',
      labels: { team: 'sre', 'app.kubernetes.io/name': 'web' },
      schedule: {
        cron: '0 2 * * *',
        timezone: 'America/New_York',
        jitterSeconds: 0,
        startAt: null,
        endAt: null,
        dstPolicy: { repeated: 'once', skipped: 'shift' },
      },
      enabled: true,
      overlapPolicy: 'skip',
      catchupWindowSeconds: 0,
      timeoutSeconds: 1800,
      limits: {},
      retry: { attempts: 3, backoffSeconds: 30 },
      spec: { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: {} },
      redact: true,
      analyze: true,
      upload: { url: 's3://bucket/prefix/', credentialsRef: 'env:BUNDLES', options: {} },
      notify: [{ url: 'https://hooks.example/x', format: 'json', on: ['failed', 'analysis:fail'] }],
      retention: { executions: 100, days: 30, bundles: 50 },
      dependsOn: ['other-job'],
    });
    expect(job.upload?.credentialsRef).toBe('env:BUNDLES');
    expect(job.notify[0].on).toEqual(['failed', 'analysis:fail']);
  });

  it('accepts a YAML string spec and a specRef', () => {
    expect(
      parseJobDefinition({ ...minimal, spec: 'apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\n' }).spec,
    ).toMatch(/SupportBundle/);
    expect(parseJobDefinition({ ...minimal, spec: { specRef: 'host-basics' } }).spec).toEqual({
      specRef: 'host-basics',
    });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['bad id', { ...minimal, id: 'Daily_Check' }, 'id', /lower-case/],
    ['id ending with a dash', { ...minimal, id: 'a-' }, 'id', /lower-case/],
    ['bad cron', { ...minimal, schedule: { cron: '61 * * * *' } }, 'schedule.cron', /invalid cron/],
    ['4-field cron', { ...minimal, schedule: { cron: '* * * *' } }, 'schedule.cron', /5 fields/],
    [
      'bad zone',
      { ...minimal, schedule: { cron: '@daily', timezone: 'Mars/Base' } },
      'schedule.timezone',
      /unknown time zone/,
    ],
    [
      'jitter too big',
      { ...minimal, schedule: { cron: '@daily', jitterSeconds: 3601 } },
      'schedule.jitterSeconds',
      /3600/,
    ],
    [
      'window reversed',
      { ...minimal, schedule: { cron: '@daily', startAt: '2026-02-01T00:00:00Z', endAt: '2026-01-01T00:00:00Z' } },
      'schedule.endAt',
      /after startAt/,
    ],
    [
      'non-ISO start',
      { ...minimal, schedule: { cron: '@daily', startAt: 'tomorrow' } },
      'schedule.startAt',
      /ISO-8601/,
    ],
    [
      'bad dst policy',
      { ...minimal, schedule: { cron: '@daily', dstPolicy: { repeated: 'thrice' } } },
      'schedule.dstPolicy.repeated',
      /./,
    ],
    ['unknown overlap', { ...minimal, overlapPolicy: 'replace' }, 'overlapPolicy', /./],
    ['timeout 0', { ...minimal, timeoutSeconds: 0 }, 'timeoutSeconds', /./],
    ['retry 21', { ...minimal, retry: { attempts: 21 } }, 'retry.attempts', /./],
    ['ftp upload', { ...minimal, upload: { url: 'ftp://x/y' } }, 'upload.url', /scheme/],
    [
      'credentials in the URL',
      { ...minimal, upload: { url: 'https://u:p@bundles.example/in' } },
      'upload.url',
      /credentials/,
    ],
    [
      'secret option',
      { ...minimal, upload: { url: 's3://b/p/', options: { secretAccessKey: 'x' } } },
      'upload.options.secretAccessKey',
      /secret/,
    ],
    [
      'bad credentialsRef',
      { ...minimal, upload: { url: 's3://b/p/', credentialsRef: 'AKIA123' } },
      'upload.credentialsRef',
      /env:NAME/,
    ],
    [
      'notify url',
      { ...minimal, notify: [{ url: 'https://ok.example' }, { url: 'mailto:x@y' }] },
      'notify[1].url',
      /scheme/,
    ],
    ['notify event', { ...minimal, notify: [{ url: 'https://ok.example', on: ['exploded'] }] }, 'notify[0].on[0]', /./],
    ['self dependency', { ...minimal, dependsOn: ['x', 'daily-check'] }, 'dependsOn[1]', /itself/],
    ['bad label value', { ...minimal, labels: { team: 'a=b' } }, 'labels.team', /label values/],
    ['spec of the wrong type', { ...minimal, spec: 42 }, 'spec', /spec object/],
    ['spec without kind', { ...minimal, spec: { apiVersion: 'troubleshoot.sh/v1beta2' } }, 'spec.kind', /non-empty/],
    ['specRef with friends', { ...minimal, spec: { specRef: 'x', kind: 'y' } }, 'spec.kind', /next to specRef/],
    ['unknown collector', { ...minimal, collector: 'kubectl' }, 'collector', /cronbundle.*support-bundle/],
  ])('rejects %s with path %s', (_what, input, path, message) => {
    const issues = issuesOf(() => parseJobDefinition(input));
    expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('accepts collector: support-bundle (external mode) and leaves it unset by default', () => {
    expect(parseJobDefinition({ ...minimal, collector: 'support-bundle' }).collector).toBe('support-bundle');
    expect(parseJobDefinition(minimal)).not.toHaveProperty('collector');
  });

  it('rejects unknown fields at any depth, naming each', () => {
    const issues = issuesOf(() =>
      parseJobDefinition({ ...minimal, colour: 'red', schedule: { cron: '@daily', every: 5 }, retry: { tries: 2 } }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['colour', 'retry.tries', 'schedule.every']);
    expect(issues.every((i) => i.message === 'unknown field')).toBe(true);
  });

  it('refuses read-only system fields in input', () => {
    const issues = issuesOf(() => parseJobDefinition({ ...minimal, version: 3, source: 'file' }));
    expect(issues).toEqual([
      { path: 'source', message: 'is read-only (set by the system)' },
      { path: 'version', message: 'is read-only (set by the system)' },
    ]);
  });

  it('reports every problem at once, with a readable message', () => {
    try {
      parseJobDefinition({ id: 'X', schedule: { cron: 'nope', timezone: 'Nowhere' } });
      throw new Error('expected a ValidationError');
    } catch (err) {
      const e = err as ValidationError;
      expect(e.details.map((d) => d.path)).toEqual(['id', 'schedule.cron', 'schedule.timezone']);
      expect(e.message).toMatch(/^id: /);
      expect(e.code).toBe('validation');
    }
  });

  it('runs the pluggable spec validator and prefixes its paths', () => {
    const validateSpec = () => [{ path: 'spec.collectors[0]', message: 'unknown collector type "teleport"' }];
    const issues = issuesOf(() =>
      parseJobDefinition(
        { ...minimal, spec: { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle' } },
        { validateSpec },
      ),
    );
    expect(issues).toEqual([{ path: 'spec.spec.collectors[0]', message: 'unknown collector type "teleport"' }]);
  });

  it('rejects non-objects', () => {
    expect(issuesOf(() => parseJobDefinition('daily'))).toEqual([
      { path: '', message: 'a job definition must be a JSON object' },
    ]);
  });
});

describe('applyJobPatch', () => {
  const base: JobDefinitionSpec = parseJobDefinition({
    ...minimal,
    name: 'Daily',
    labels: { team: 'sre', tier: 'gold' },
    schedule: { cron: '0 2 * * *', timezone: 'Europe/London', jitterSeconds: 30 },
    spec: { apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { collectors: [] } },
    retry: { attempts: 5 },
  });

  it('merges nested objects, keeps what the patch does not mention', () => {
    const next = applyJobPatch(base, { schedule: { cron: '0 3 * * *' }, labels: { tier: null, env: 'prod' } });
    expect(next.schedule).toMatchObject({ cron: '0 3 * * *', timezone: 'Europe/London', jitterSeconds: 30 });
    expect(next.labels).toEqual({ team: 'sre', env: 'prod' });
    expect(next.retry).toEqual({ attempts: 5, backoffSeconds: 30 });
  });

  it('null restores a default; spec is replaced whole', () => {
    const next = applyJobPatch(base, {
      retry: { attempts: null },
      spec: 'kind: SupportBundle\napiVersion: troubleshoot.sh/v1beta2\n',
    });
    expect(next.retry.attempts).toBe(3);
    expect(typeof next.spec).toBe('string');
  });

  it('refuses id changes, system fields and unknown fields; validates the merged result', () => {
    expect(issuesOf(() => applyJobPatch(base, { id: 'other' }))).toContainEqual({
      path: 'id',
      message: 'is immutable',
    });
    expect(issuesOf(() => applyJobPatch(base, { version: 9 }))).toContainEqual({
      path: 'version',
      message: 'is read-only (set by the system)',
    });
    expect(issuesOf(() => applyJobPatch(base, { schedule: { every: 1 } }))).toContainEqual({
      path: 'schedule.every',
      message: 'unknown field',
    });
    expect(issuesOf(() => applyJobPatch(base, { schedule: { cron: 'bad' } }))[0].path).toBe('schedule.cron');
    expect(applyJobPatch(base, { id: 'daily-check', enabled: false }).enabled).toBe(false);
  });

  it('the patch schema applies no defaults', () => {
    expect(jobDefinitionPatchSchema.parse({})).toEqual({});
    expect(jobDefinitionPatchSchema.parse({ schedule: { cron: '@daily' } })).toEqual({ schedule: { cron: '@daily' } });
  });
});
