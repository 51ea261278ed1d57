import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

// s3rver ships no types; this is the part of its API the harness uses.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

/** Credentials s3rver accepts (it checks signatures against these). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * A real S3-protocol server (s3rver) in a temp directory on a free port. Use it with
 * `forcePathStyle: true`, region `us-east-1` and S3RVER_CREDENTIALS.
 */
export class S3TestServer {
  private constructor(
    private readonly server: S3rverInstance,
    readonly endpoint: string,
    readonly directory: string,
  ) {}

  static async start(buckets: string[] = ['bundles']): Promise<S3TestServer> {
    const directory = mkdtempSync(join(tmpdir(), 'cronbundle-s3-'));
    const server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: buckets.map((name) => ({ name })),
    });
    const address = await server.run();
    return new S3TestServer(server, `http://127.0.0.1:${address.port}`, directory);
  }

  async stop(): Promise<void> {
    await this.server.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
