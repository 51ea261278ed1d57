import fc from 'fast-check';
import { stringify } from 'yaml';
import { SpecError, parseSpec, requiresAdmin, validateSpec } from './spec-parser';

const multiDoc = `
apiVersion: troubleshoot.sh/v1beta2
kind: SupportBundle
metadata: { name: app }
spec:
  hostCollectors:
    - cpu: {}
    - memory:
    - diskUsage: { collectorName: root, path: / }
  collectors:
    - data: { name: static, collectorName: hello.txt, data: "hi" }
  analyzers:
    - textAnalyze: { checkName: x, fileName: a, regex: b, outcomes: [] }
---
apiVersion: troubleshoot.sh/v1beta2
kind: HostCollector
spec:
  collectors:
    - tcpConnect: { address: "db:5432", timeout: 5s }
  analyzers:
    - tcpConnect: { outcomes: [] }
---
apiVersion: troubleshoot.sh/v1beta2
kind: Redactor
spec:
  redactors:
    - name: tokens
      removals:
        regex: [{ redactor: "(?P<mask>tok_[a-z]+)" }]
`;

describe('parseSpec', () => {
  it('merges several YAML documents of different kinds into one spec', () => {
    const { spec } = parseSpec(multiDoc);
    expect(spec.hostCollectors).toEqual([
      { cpu: {} },
      { memory: {} },
      { diskUsage: { collectorName: 'root', path: '/' } },
      { tcpConnect: { address: 'db:5432', timeout: '5s' } },
    ]);
    expect(spec.collectors).toEqual([{ data: { name: 'static', collectorName: 'hello.txt', data: 'hi' } }]);
    expect(spec.analyzers).toHaveLength(1);
    expect(spec.hostAnalyzers).toEqual([{ tcpConnect: { outcomes: [] } }]);
    expect(spec.redactors).toEqual([{ name: 'tokens', removals: { regex: [{ redactor: '(?P<mask>tok_[a-z]+)' }] } }]);
  });

  it('accepts a JSON string, an object, and v1beta3', () => {
    const doc = {
      apiVersion: 'troubleshoot.sh/v1beta3',
      kind: 'SupportBundle',
      spec: { hostCollectors: [{ cpu: {} }] },
    };
    expect(parseSpec(JSON.stringify(doc)).spec.hostCollectors).toEqual([{ cpu: {} }]);
    expect(parseSpec(doc).spec.hostCollectors).toEqual([{ cpu: {} }]);
    expect(parseSpec([doc, doc]).spec.hostCollectors).toHaveLength(2);
  });

  it('maps HostPreflight/Preflight documents', () => {
    const { spec } = parseSpec(
      stringify({
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'HostPreflight',
        spec: { collectors: [{ time: {} }], analyzers: [{ time: { outcomes: [] } }] },
      }),
    );
    expect(spec.hostCollectors).toEqual([{ time: {} }]);
    expect(spec.hostAnalyzers).toEqual([{ time: { outcomes: [] } }]);
  });

  const hostSpec = (hostCollectors: unknown[]) => ({
    apiVersion: 'troubleshoot.sh/v1beta2',
    kind: 'SupportBundle',
    spec: { hostCollectors },
  });
  const issues = (input: unknown) => {
    try {
      parseSpec(input as never);
    } catch (err) {
      expect(err).toBeInstanceOf(SpecError);
      return (err as SpecError).errors;
    }
    throw new Error('expected a SpecError');
  };

  it('names the path of a bad field', () => {
    const errors = issues(hostSpec([{ cpu: {} }, { memory: {} }, { time: {} }, { tcpPortStatus: { port: 'eighty' } }]));
    expect(errors).toEqual([
      { path: 'spec.hostCollectors[3].tcpPortStatus.port', message: expect.stringMatching(/number/) },
    ]);
    expect(issues(hostSpec([{ tcpPortStatus: { port: 70000 } }]))[0]!.path).toBe(
      'spec.hostCollectors[0].tcpPortStatus.port',
    );
    expect(issues(hostSpec([{ tcpConnect: { address: 'a:1', timeout: 'soon' } }]))[0]).toEqual({
      path: 'spec.hostCollectors[0].tcpConnect.timeout',
      message: expect.stringMatching(/Go duration/),
    });
    expect(issues(hostSpec([{ http: { collectorName: 'x' } }]))[0]).toEqual({
      path: 'spec.hostCollectors[0].http',
      message: 'exactly one of get, post or put is required',
    });
    expect(issues(hostSpec([{ run: { command: 'x', args: ['ok', 3] } }]))[0]!.path).toBe(
      'spec.hostCollectors[0].run.args[1]',
    );
  });

  it('rejects unknown fields inside a collector entry at their full path', () => {
    const errors = issues(
      hostSpec([{ cpu: {} }, { memory: {} }, { time: {} }, { tcpPortStatus: { port: 80, bogus: 1, prot: 2 } }]),
    );
    expect(errors).toEqual([
      { path: 'spec.hostCollectors[3].tcpPortStatus.bogus', message: expect.stringMatching(/^unknown field/) },
      { path: 'spec.hostCollectors[3].tcpPortStatus.prot', message: expect.stringMatching(/^unknown field/) },
    ]);
    expect(errors[0]!.message).toContain('tcpPortStatus accepts collectorName, exclude, port, interface');
    // Nested objects are strict too: a typo inside http.get is named where it is.
    expect(issues(hostSpec([{ http: { get: { url: 'http://x', timout: '5s' } } }]))).toEqual([
      { path: 'spec.hostCollectors[0].http.get.timout', message: 'unknown field' },
    ]);
    expect(
      issues({
        apiVersion: 'troubleshoot.sh/v1beta2',
        kind: 'SupportBundle',
        spec: { collectors: [{ postgres: { uri: 'postgresql://h/db', password: 'x' } }] },
      }),
    ).toEqual([{ path: 'spec.collectors[0].postgres.password', message: expect.stringMatching(/^unknown field/) }]);
  });

  it("accepts troubleshoot's common fields and every documented field", () => {
    const { spec } = parseSpec(
      hostSpec([
        { cpu: { collectorName: 'c', exclude: false } },
        { memory: { exclude: 'false' } },
        { tcpPortStatus: { collectorName: 'p', port: 80, interface: 'eth0' } },
        { udpPortStatus: { port: 53 } },
        { tcpConnect: { address: 'a:1', timeout: '1s' } },
        {
          http: {
            post: {
              url: 'https://x',
              headers: { a: 'b' },
              body: '{}',
              timeout: '2s',
              insecureSkipVerify: true,
              proxy: 'http://p',
              tls: { cacert: 'pem', clientCert: 'c', clientKey: 'k', skipVerify: false },
            },
          },
        },
        {
          run: {
            command: 'ls',
            args: ['-l'],
            env: ['A=1'],
            inheritEnvs: ['PATH'],
            ignoreParentEnvs: true,
            timeout: '5s',
            outputDir: 'o',
            input: { 'a.txt': 'x' },
          },
        },
        { copy: { path: '/etc/hosts' } },
        { diskUsage: { path: '/' } },
        { blockDevices: { includeUnmountedPartitions: true, minimumAcceptableSize: 0 } },
        { certificate: { certificatePath: '/a', keyPath: '/b' } },
        { certificatesCollection: { paths: ['/a'] } },
        { journald: { collectorName: 'k', system: true, units: ['kubelet'], since: '1h', lines: 10, utc: true } },
        { filesystemPerformance: { directory: '/var', fileSize: '10Mi', operationSize: 2300, datasync: true } },
        { systemPackages: { ubuntu: ['curl'], rhel9: ['curl'] } },
        { dns: { hostnames: ['a'] } },
        { cgroups: { mountPoint: '/sys/fs/cgroup' } },
      ]),
    );
    expect(spec.hostCollectors).toHaveLength(17);
    const cluster = parseSpec({
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: {
        collectors: [
          { postgres: { collectorName: 'pg', uri: 'postgresql://u:p@h/db', tls: { skipVerify: true } } },
          { mysql: { uri: 'u:p@tcp(h:3306)/db', parameters: ['character_set_server'] } },
          { redis: { uri: 'redis://h:6379' } },
          { logs: { selector: ['app=x'], namespace: 'ns', limits: { maxLines: 10, maxAge: '1h' } } },
          { s3Status: { bucketName: 'b', endpoint: 'http://s3', usePathStyle: true } },
        ],
      },
    }).spec;
    expect(cluster.collectors).toHaveLength(5);
  });

  it('reads spec.external (SupportBundle only, boolean) and treats it as admin-only', () => {
    const ext = (external: unknown, kind = 'SupportBundle') => ({
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind,
      spec: { external, collectors: [] },
    });
    expect(parseSpec(ext(true)).spec.external).toBe(true);
    expect(parseSpec(ext(false)).spec.external).toBeUndefined();
    expect(requiresAdmin(parseSpec(ext(true)).spec)).toBe(true);
    expect(issues(ext('yes'))).toEqual([{ path: 'spec.external', message: 'must be true or false' }]);
    expect(issues(ext(true, 'Collector'))[0]!.path).toBe('spec.external');
  });

  it('rejects unknown collector and analyzer types, naming them', () => {
    expect(issues(hostSpec([{ cpu: {} }, { teleport: {} }]))).toEqual([
      {
        path: 'spec.hostCollectors[1].teleport',
        message: expect.stringMatching(/unknown host collector type "teleport"/),
      },
    ]);
    const analyzer = issues({
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      spec: { analyzers: [{ crystalBall: {} }] },
    });
    expect(analyzer[0]).toEqual({
      path: 'spec.analyzers[0].crystalBall',
      message: expect.stringMatching(/unknown analyzer type/),
    });
    expect(issues(hostSpec([{ cpu: {}, memory: {} }]))[0]!.message).toMatch(/exactly one key/);
  });

  it('reports bad headers and documents, with the document index when there are several', () => {
    expect(
      issues({ apiVersion: 'v1', kind: 'Pod', spec: {} })
        .map((e) => e.path)
        .sort(),
    ).toEqual(['apiVersion', 'kind']);
    const errors = issues(
      `apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec: {}\n---\napiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec:\n  hostCollectors: [{ nope: {} }]\n`,
    );
    expect(errors).toEqual([{ path: 'spec.hostCollectors[0].nope', message: expect.any(String), document: 1 }]);
    expect(issues('key: [unclosed')[0]!.message).toMatch(/not valid YAML/);
    expect(issues('')[0]!.message).toMatch(/empty/);
    expect(issues(42 as never)[0]!.message).toMatch(/string or an object/);
  });

  it('validateSpec returns errors instead of throwing', () => {
    expect(validateSpec(multiDoc)).toEqual({ valid: true, errors: [] });
    expect(validateSpec(hostSpec([{ bogus: {} }]))).toEqual({
      valid: false,
      errors: [expect.objectContaining({ path: 'spec.hostCollectors[0].bogus' })],
    });
  });

  it('requiresAdmin when run, exec or copy collectors are present', () => {
    expect(requiresAdmin(parseSpec(multiDoc).spec)).toBe(false);
    expect(requiresAdmin(parseSpec(hostSpec([{ run: { command: 'ls' } }])).spec)).toBe(true);
    expect(requiresAdmin(parseSpec(hostSpec([{ copy: { path: '/var/log/*' } }])).spec)).toBe(true);
    expect(
      requiresAdmin(
        parseSpec({ apiVersion: 'troubleshoot.sh/v1beta2', kind: 'Collector', spec: { collectors: [{ exec: {} }] } })
          .spec,
      ),
    ).toBe(true);
  });

  it('never throws anything but SpecError on random or malformed input (property)', () => {
    const collectorNames = [
      'cpu',
      'memory',
      'tcpPortStatus',
      'http',
      'run',
      'copy',
      'diskUsage',
      'bogus',
      '__proto__',
      'constructor',
    ];
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
      node: fc.oneof(
        { depthSize: 'small' },
        tie('leaf'),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.string(), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    const entry = fc.oneof(fc.dictionary(fc.constantFrom(...collectorNames), value, { minKeys: 0, maxKeys: 2 }), value);
    const doc = fc.record(
      {
        apiVersion: fc.oneof(fc.constant('troubleshoot.sh/v1beta2'), fc.string()),
        kind: fc.oneof(fc.constantFrom('SupportBundle', 'HostCollector', 'Redactor', 'Analyzer'), value),
        spec: fc.oneof(
          fc.record(
            {
              hostCollectors: fc.oneof(fc.array(entry, { maxLength: 4 }), value),
              collectors: fc.array(entry, { maxLength: 3 }),
              analyzers: fc.array(entry, { maxLength: 2 }),
              redactors: fc.array(value, { maxLength: 2 }),
            },
            { requiredKeys: [] },
          ),
          value,
        ),
      },
      { requiredKeys: [] },
    );
    const input = fc.oneof(
      doc,
      doc.map((d) => stringify(d)),
      doc.map((d) => JSON.stringify(d)),
      fc.array(doc, { maxLength: 3 }).map((ds) => ds.map((d) => stringify(d)).join('---\n')),
      fc.string(),
      fc
        .string()
        .map((s) => `apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec:\n  hostCollectors:\n    - ${s}\n`),
      fc.constantFrom(
        'a: &x [*x]',
        '{{{',
        '- - -',
        '!!binary x',
        'a: *nope',
        '\t\ttabs: [',
        '%YAML 9.9\n---\n',
        'a: &a [*a, *a]',
      ),
      value,
    );
    fc.assert(
      fc.property(input, (candidate) => {
        try {
          parseSpec(candidate as never);
        } catch (err) {
          if (!(err instanceof SpecError)) throw err;
          for (const issue of err.errors) {
            if (typeof issue.path !== 'string' || typeof issue.message !== 'string')
              throw new Error('malformed issue', { cause: err });
          }
        }
        const v = validateSpec(candidate);
        return typeof v.valid === 'boolean' && Array.isArray(v.errors);
      }),
      { numRuns: 400 },
    );
  });
});
