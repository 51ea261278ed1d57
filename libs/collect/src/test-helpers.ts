import type { Readable } from 'node:stream';
import { createDefaultRegistry } from './default-registry';
import type { BundleSink } from './framework/collector.types';
import { runCollectors, type CollectorsSummary, type RunCollectorsOptions } from './framework/run-collectors';
import { parseSpec } from './spec/spec-parser';

/** A BundleSink keeping files in memory, for tests of collectors. */
export class MemorySink implements BundleSink {
  readonly files = new Map<string, Buffer>();

  async addFile(path: string, content: Buffer | string) {
    if (this.files.has(path)) throw new Error(`duplicate bundle entry: ${path}`);
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    this.files.set(path, data);
    return { written: true, truncated: false, bytes: data.length };
  }

  async addStream(path: string, source: Readable, size?: number, options: { omitIfEmpty?: boolean } = {}) {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const chunk of source) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      const take = size === undefined ? buf.length : Math.min(buf.length, size - n);
      chunks.push(buf.subarray(0, take));
      n += take;
      if (size !== undefined && n >= size) break;
    }
    if (n === 0 && options.omitIfEmpty && size === undefined) return { written: false, truncated: false, bytes: 0 };
    return this.addFile(path, Buffer.concat(chunks));
  }

  readonly links = new Map<string, string>();

  async addSymlink(path: string, target: string) {
    if (this.files.has(path) || this.links.has(path)) throw new Error(`duplicate bundle entry: ${path}`);
    this.links.set(path, target);
    return { written: true, truncated: false, bytes: 0 };
  }

  text(path: string): string {
    const file = this.files.get(path);
    if (!file) throw new Error(`no file ${path}; have: ${[...this.files.keys()].join(', ')}`);
    return file.toString('utf8');
  }

  json(path: string): unknown {
    return JSON.parse(this.text(path));
  }
}

/** Run host collectors given as troubleshoot entries (validated by the parser) into a MemorySink. */
export async function collectHost(
  entries: Record<string, unknown>[],
  options: Partial<RunCollectorsOptions> = {},
): Promise<{ sink: MemorySink; summary: CollectorsSummary }> {
  const { spec } = parseSpec({
    apiVersion: 'troubleshoot.sh/v1beta2',
    kind: 'SupportBundle',
    spec: { hostCollectors: entries },
  });
  const sink = new MemorySink();
  const summary = await runCollectors(spec, sink, { registry: createDefaultRegistry(), ...options });
  return { sink, summary };
}
