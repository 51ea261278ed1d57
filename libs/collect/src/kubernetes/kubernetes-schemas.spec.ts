import { parseSpec, SpecError, validateSpec } from '../spec/spec-parser';
import { logOptions } from './logs.collector';
import { logsSchema } from './kubernetes-schemas';

const doc = (collectors: unknown[]) => ({
  apiVersion: 'troubleshoot.sh/v1beta2',
  kind: 'SupportBundle',
  spec: { collectors },
});
const issues = (collectors: unknown[]) => validateSpec(doc(collectors)).errors.map((e) => `${e.path}: ${e.message}`);

describe('Kubernetes collector schemas', () => {
  it("accepts troubleshoot's fields, including collectorName and exclude", () => {
    expect(() =>
      parseSpec(
        doc([
          { clusterInfo: { collectorName: 'ci', exclude: false } },
          { clusterResources: { namespaces: ['app', 'default'], ignoreRBAC: true, exclude: 'false' } },
          {
            logs: {
              collectorName: 'web',
              name: 'logs/web',
              namespace: 'app',
              selector: ['app=web', 'tier!=db'],
              containerNames: ['web'],
              limits: { maxAge: '24h', maxLines: 500, maxBytes: 1000000 },
              timestamps: true,
            },
          },
          { secret: { name: 'db', namespace: 'app', key: 'password', includeValue: true, includeAllData: false } },
          { configMap: { selector: ['app=web'], namespace: 'app' } },
        ]),
      ),
    ).not.toThrow();
  });

  it('names the path of an unknown or bad field', () => {
    expect(issues([{ logs: { limits: { maxLine: 5 } } }])).toEqual([
      'spec.collectors[0].logs.limits.maxLine: unknown field',
    ]);
    expect(issues([{ clusterInfo: { namespace: 'x' } }])).toEqual([
      expect.stringMatching(/^spec\.collectors\[0\]\.clusterInfo\.namespace: unknown field/),
    ]);
    expect(issues([{ logs: { limits: { maxAge: '1 day' } } }])).toEqual([
      'spec.collectors[0].logs.limits.maxAge: must be a Go duration such as "24h" or "30m"',
    ]);
    expect(issues([{ logs: { limits: { maxLines: 0 } } }])[0]).toMatch(
      /^spec\.collectors\[0\]\.logs\.limits\.maxLines: /,
    );
    expect(issues([{ clusterResources: { namespaces: ['../etc'] } }])).toEqual([
      'spec.collectors[0].clusterResources.namespaces[0]: must be a Kubernetes namespace name (lower-case letters, digits, -)',
    ]);
    expect(issues([{ secret: { namespace: 'app' } }])).toEqual([
      'spec.collectors[0].secret: either name or selector is required',
    ]);
    expect(issues([{ configMap: { name: 'App_Config' } }])[0]).toMatch(
      /^spec\.collectors\[0\]\.configMap\.name: must be a Kubernetes object name/,
    );
    expect(() => parseSpec(doc([{ secret: { name: 'x', includeValues: true } }]))).toThrow(SpecError);
  });

  it("turns limits into the API's log options with troubleshoot's precedence and defaults", () => {
    const opts = (limits?: unknown) => logOptions(logsSchema.parse(limits === undefined ? {} : { limits }));
    expect(opts()).toEqual({ tailLines: 10_000, limitBytes: 5_000_000 });
    expect(opts({ maxLines: 50, maxBytes: 1024 })).toEqual({ tailLines: 50, limitBytes: 1024 });
    expect(opts({ maxAge: '30m', maxLines: 50 })).toEqual({ sinceSeconds: 1800, limitBytes: 5_000_000 });
    expect(opts({ sinceTime: '2026-11-29T10:00:00+01:00', maxAge: '1h' })).toEqual({
      sinceTime: '2026-11-29T09:00:00Z',
      limitBytes: 5_000_000,
    });
  });
});
