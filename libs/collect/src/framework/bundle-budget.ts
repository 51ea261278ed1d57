import { Readable } from 'node:stream';
import type { BundleSink } from './collector.types';

type AddResult = Awaited<ReturnType<BundleSink['addFile']>>;

/**
 * The bundle's size budget (`limits.maxBundleBytes`) applied to what collectors write, in front of
 * the archive. Once anything is cut or refused the budget counts as exhausted: the runner starts no
 * further collector, and the bundle's own records (summary, skipped collectors, limits) are written
 * past it, straight to the archive, so a full bundle still says what happened.
 *
 * Bytes are claimed before they are written (known sizes at once, streams chunk by chunk), so
 * collectors writing concurrently cannot together overshoot the budget.
 */
export class BundleBudget implements BundleSink {
  private used = 0;
  private full = false;
  private readonly cutPaths: string[] = [];

  constructor(
    private readonly sink: BundleSink,
    readonly maxBytes: number,
  ) {}

  /** True once some output was cut or refused. */
  get exhausted(): boolean {
    return this.full;
  }

  get usedBytes(): number {
    return this.used;
  }

  /** Paths cut or refused because of the budget, in order. */
  get truncatedPaths(): readonly string[] {
    return this.cutPaths;
  }

  async addFile(path: string, content: Buffer | string): Promise<AddResult> {
    const size = typeof content === 'string' ? Buffer.byteLength(content) : content.length;
    if (size > this.maxBytes - this.used) return this.refuse(path);
    this.used += size;
    return this.sink.addFile(path, content);
  }

  async addStream(
    path: string,
    source: Readable,
    size?: number,
    options?: { omitIfEmpty?: boolean },
  ): Promise<AddResult> {
    const remaining = this.maxBytes - this.used;
    if (size !== undefined) {
      const allowed = Math.min(size, remaining);
      if (allowed === 0 && size > 0) {
        source.on('error', () => undefined);
        source.destroy();
        return this.refuse(path);
      }
      this.used += allowed;
      if (allowed < size) this.cut(path);
      const result = await this.sink.addStream(path, source, allowed, options);
      return allowed < size ? { ...result, truncated: true } : result;
    }
    let over = false;
    const limited = Readable.from(
      this.claimChunks(source, () => {
        over = true;
      }),
    );
    const result = await this.sink.addStream(path, limited, undefined, options);
    if (over) this.cut(path);
    return over ? { ...result, truncated: true } : result;
  }

  private async *claimChunks(source: Readable, onOver: () => void): AsyncGenerator<Buffer> {
    for await (const raw of source) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
      const take = Math.min(chunk.length, this.maxBytes - this.used);
      this.used += take;
      if (take > 0) yield take === chunk.length ? chunk : chunk.subarray(0, take);
      if (take < chunk.length) {
        onOver();
        return; // ends the for-await, which destroys the source
      }
    }
  }

  private refuse(path: string): AddResult {
    this.cut(path);
    return { written: false, truncated: true, bytes: 0 };
  }

  private cut(path: string): void {
    this.full = true;
    this.cutPaths.push(path);
  }
}
