import { Readable } from 'node:stream';
import { parseSpec, type NormalizedSpec } from '../spec/spec-parser';
import { MemorySink } from '../test-helpers';
import { CollectorRegistry } from './collector-registry';
import { defineCollector } from './collector.types';
import { createReferenceResolver } from './references';
import { runCollectors, type CollectEvent } from './run-collectors';

const spec = (hostCollectors: unknown[], collectors: unknown[] = []): NormalizedSpec =>
  parseSpec({ apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { hostCollectors, collectors } })
    .spec;

describe('runCollectors', () => {
  it('isolates a failing collector: error file, summary, and the others still run', async () => {
    const registry = new CollectorRegistry([
      defineCollector({
        type: 'cpu',
        scope: 'host',
        defaultTitle: 'CPU Info',
        collect: async () => Promise.reject(new Error('boom')),
      }),
      defineCollector({
        type: 'memory',
        scope: 'host',
        defaultTitle: 'Amount of Memory',
        collect: async (ctx) => ctx.output.addJson('host-collectors/system/memory.json', { total: 1 }),
      }),
      defineCollector({
        type: 'data',
        scope: 'cluster',
        defaultTitle: 'data',
        collect: async () => {
          throw new Error('cluster boom');
        },
      }),
    ]);
    const sink = new MemorySink();
    const summary = await runCollectors(
      spec([{ cpu: {} }, { memory: {} }], [{ data: { collectorName: 'x', data: '' } }]),
      sink,
      { registry, now: () => new Date('2026-01-01T00:00:00Z') },
    );
    expect(summary).toMatchObject({ total: 3, failed: 2, skipped: 0 });
    expect(summary.results.map((r) => [r.type, r.name, r.error])).toEqual([
      ['cpu', 'CPU Info', 'boom'],
      ['memory', 'Amount of Memory', undefined],
      ['data', 'x', 'cluster boom'],
    ]);
    expect(sink.json('host-collectors/errors/CPU Info-error.json')).toEqual({
      collector: 'CPU Info',
      error: 'boom',
      timestamp: '2026-01-01T00:00:00.000Z',
    });
    expect(sink.json('collector-errors/x-error.json')).toMatchObject({ collector: 'x', error: 'cluster boom' });
    expect(sink.json('host-collectors/system/memory.json')).toEqual({ total: 1 });
  });

  it('times a collector out through its AbortSignal and refuses its late writes', async () => {
    let lateWrite: Promise<void> | undefined;
    let sawAbort = false;
    const registry = new CollectorRegistry([
      defineCollector({
        type: 'cpu',
        scope: 'host',
        defaultTitle: 'CPU Info',
        collect: (ctx) =>
          new Promise<void>((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              sawAbort = true;
              lateWrite = ctx.output.addFile('late.txt', 'x');
              lateWrite.catch(() => undefined);
              resolve();
            });
          }),
      }),
    ]);
    const sink = new MemorySink();
    const summary = await runCollectors(spec([{ cpu: {} }]), sink, { registry, timeoutMs: 50 });
    expect(sawAbort).toBe(true);
    expect(summary.results[0]!.error).toBe('timed out after 50 ms');
    await expect(lateWrite).rejects.toThrow(/already stopped/);
    expect(sink.files.has('late.txt')).toBe(false);
  });

  it('honours exclude and records unimplemented types as skipped', async () => {
    const registry = new CollectorRegistry([
      defineCollector({
        type: 'cpu',
        scope: 'host',
        defaultTitle: 'CPU Info',
        collect: async (ctx) => ctx.output.addFile('cpu', '1'),
      }),
    ]);
    const sink = new MemorySink();
    const events: CollectEvent[] = [];
    const summary = await runCollectors(
      spec([
        { cpu: { exclude: true } },
        { cpu: { collectorName: 'c2', exclude: 'true' } },
        { journald: { collectorName: 'j' } },
      ]),
      sink,
      {
        registry,
        onProgress: (e) => events.push(e),
      },
    );
    expect(summary.results.map((r) => r.skipped)).toEqual(['excluded', 'excluded', 'unsupported']);
    expect(summary).toMatchObject({ failed: 0, skipped: 3 });
    expect(sink.files.size).toBe(0);
    expect(events.filter((e) => e.type === 'collector:skipped')).toHaveLength(3);
  });

  it('runs at most `concurrency` collectors at once', async () => {
    let running = 0;
    let peak = 0;
    const registry = new CollectorRegistry([
      defineCollector({
        type: 'cpu',
        scope: 'host',
        defaultTitle: 'CPU Info',
        collect: async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          await new Promise((r) => setImmediate(r));
          running--;
        },
      }),
    ]);
    const summary = await runCollectors(
      spec(Array.from({ length: 10 }, (_, i) => ({ cpu: { collectorName: `c${i}` } }))),
      new MemorySink(),
      { registry, concurrency: 3 },
    );
    expect(summary.failed).toBe(0);
    expect(peak).toBe(3);
  });

  it('caps each collector’s output and marks it truncated', async () => {
    const registry = new CollectorRegistry([
      defineCollector({
        type: 'cpu',
        scope: 'host',
        defaultTitle: 'CPU Info',
        collect: async (ctx) => {
          await ctx.output.addStream('a.bin', Readable.from([Buffer.alloc(300), Buffer.alloc(300)]));
          await ctx.output.addFile('b.txt', 'x'.repeat(600));
        },
      }),
    ]);
    const sink = new MemorySink();
    const events: CollectEvent[] = [];
    const summary = await runCollectors(spec([{ cpu: {} }]), sink, {
      registry,
      maxCollectorBytes: 500,
      onProgress: (e) => events.push(e),
    });
    expect(sink.files.get('a.bin')!.length).toBe(500);
    expect(sink.files.has('b.txt')).toBe(false);
    expect(summary.results[0]!.truncated).toBe(true);
    // The progress event says so too: the worker logs it on the execution, the CLI prints it.
    expect(events.find((e) => e.type === 'collector:end')).toMatchObject({ truncated: true });
  });

  it('resolves ${env:…} references at run time and keeps resolved values out of errors', async () => {
    let seen: unknown;
    const registry = new CollectorRegistry([
      defineCollector<{ address: string }>({
        type: 'tcpConnect',
        scope: 'host',
        defaultTitle: 'TCP Connection Attempt',
        collect: async (ctx) => {
          seen = { spec: ctx.spec.address, raw: ctx.rawSpec.address };
          throw new Error(`cannot reach ${ctx.spec.address}`);
        },
      }),
    ]);
    const sink = new MemorySink();
    const resolver = createReferenceResolver({ env: { DB_HOST: 'db.secret.internal' } });
    const summary = await runCollectors(
      spec([
        { tcpConnect: { address: '${env:DB_HOST}:5432' } },
        { tcpConnect: { collectorName: 'missing', address: '${env:NOPE}:1' } },
      ]),
      sink,
      { registry, resolver },
    );
    expect(seen).toEqual({ spec: 'db.secret.internal:5432', raw: '${env:DB_HOST}:5432' });
    expect(summary.results[0]!.error).toBe('cannot reach ${env:DB_HOST}:5432');
    expect(sink.text('host-collectors/errors/TCP Connection Attempt-error.json')).not.toContain('db.secret.internal');
    expect(summary.results[1]!.error).toMatch(/NOPE is not set/);

    const noResolver = await runCollectors(
      spec([{ tcpConnect: { address: '${env:DB_HOST}:5432' } }]),
      new MemorySink(),
      { registry },
    );
    expect(noResolver.results[0]!.error).toMatch(/no reference resolver/);
  });

  it('a throwing progress listener does not break the run', async () => {
    const registry = new CollectorRegistry([
      defineCollector({ type: 'cpu', scope: 'host', defaultTitle: 'CPU Info', collect: async () => undefined }),
    ]);
    const summary = await runCollectors(spec([{ cpu: {} }]), new MemorySink(), {
      registry,
      onProgress: () => {
        throw new Error('listener bug');
      },
    });
    expect(summary.failed).toBe(0);
  });
});
