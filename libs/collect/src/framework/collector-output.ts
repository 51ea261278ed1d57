import { Readable } from 'node:stream';
import type { BundleSink, CollectorOutput } from './collector.types';

/**
 * One collector's window on the bundle: enforces its byte cap, cuts its streams when it is
 * aborted (so a stalled source cannot hold the archive), and refuses writes once it has been
 * closed (a collector that ignored its timeout must not add files later).
 */
export class CappedCollectorOutput implements CollectorOutput {
  private used = 0;
  private cut = false;
  private closed = false;
  private readonly live = new Set<Readable>();

  constructor(
    private readonly sink: BundleSink,
    private readonly maxBytes: number,
    signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.close(), { once: true });
  }

  get bytes(): number {
    return this.used;
  }

  /** True when some output was cut or dropped by this collector's cap or the bundle's budget. */
  get truncated(): boolean {
    return this.cut;
  }

  close(): void {
    this.closed = true;
    for (const s of this.live) {
      // Destroying with an error emits 'error'; a stream not yet piped anywhere has no listener, and
      // an unheard 'error' would take the whole worker process down. Readers still see the error.
      s.on('error', () => undefined);
      s.destroy(new Error('collector stopped'));
    }
    this.live.clear();
  }

  async addFile(path: string, content: Buffer | string): Promise<void> {
    this.assertOpen(path);
    const size = typeof content === 'string' ? Buffer.byteLength(content) : content.length;
    if (size > this.maxBytes - this.used) {
      this.cut = true;
      return;
    }
    this.account(await this.sink.addFile(path, content));
  }

  addJson(path: string, value: unknown): Promise<void> {
    return this.addFile(path, JSON.stringify(value, null, 2));
  }

  async addStream(
    path: string,
    source: Readable,
    size?: number,
    options: { omitIfEmpty?: boolean } = {},
  ): Promise<void> {
    this.assertOpen(path);
    const remaining = this.maxBytes - this.used;
    this.live.add(source);
    try {
      if (size !== undefined) {
        const allowed = Math.min(size, remaining);
        if (allowed < size) this.cut = true;
        if (allowed === 0 && size > 0) {
          source.destroy();
          return;
        }
        this.account(await this.sink.addStream(path, source, allowed));
        return;
      }
      const limited = Readable.from(this.limit(source, remaining));
      this.live.add(limited);
      try {
        this.account(await this.sink.addStream(path, limited, undefined, options));
      } finally {
        this.live.delete(limited);
      }
    } finally {
      this.live.delete(source);
    }
  }

  async addSymlink(path: string, target: string): Promise<boolean> {
    this.assertOpen(path);
    if (!this.sink.addSymlink) return false;
    this.account(await this.sink.addSymlink(path, target));
    return true;
  }

  private async *limit(source: Readable, max: number): AsyncGenerator<Buffer> {
    let sent = 0;
    for await (const raw of source) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
      const take = Math.min(chunk.length, max - sent);
      if (take > 0) yield take === chunk.length ? chunk : chunk.subarray(0, take);
      sent += take;
      if (take < chunk.length) {
        this.cut = true;
        return; // ends the for-await, which destroys the source
      }
    }
  }

  private account(result: { truncated: boolean; bytes: number }): void {
    this.used += result.bytes;
    if (result.truncated) this.cut = true;
  }

  private assertOpen(path: string): void {
    if (this.closed) throw new Error(`collector already stopped; not writing ${path}`);
  }
}
