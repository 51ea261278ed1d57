import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';

export interface BundleEntry {
  /** Path inside the archive, including the top folder. */
  name: string;
  type: string;
  content: Buffer;
  linkname?: string;
}

/**
 * Read a whole .tar.gz into memory, refusing archives bigger than `maxBytes` uncompressed.
 * For small bundles (tests, `analyze` of a bundle's JSON files); large ones should use tar-stream.
 */
export async function readBundleEntries(source: Readable, maxBytes = 256 * 1024 * 1024): Promise<BundleEntry[]> {
  const extract = tar.extract();
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  gunzip.on('error', (err) => extract.destroy(err));
  gunzip.pipe(extract as unknown as NodeJS.WritableStream); // streamx Writable: write/end/drain compatible
  const entries: BundleEntry[] = [];
  let total = 0;
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) throw new Error(`bundle is larger than ${maxBytes} bytes uncompressed`);
      chunks.push(chunk as Buffer);
    }
    entries.push({
      name: entry.header.name,
      type: entry.header.type,
      content: Buffer.concat(chunks),
      ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}),
    });
  }
  return entries;
}
