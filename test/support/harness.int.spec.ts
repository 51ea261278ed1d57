import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { HttpCaptureServer, S3RVER_CREDENTIALS, S3TestServer } from '@cronbundle/testing';

describe('test harness services', () => {
  it('s3rver accepts PutObject and a multipart lib-storage upload from the AWS SDK', async () => {
    const s3 = await S3TestServer.start(['bundles']);
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
    try {
      await client.send(new PutObjectCommand({ Bucket: 'bundles', Key: 'a/b.txt', Body: 'hello' }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'bundles', Key: 'a/b.txt' }));
      expect(await got.Body!.transformToString()).toBe('hello');

      const big = Buffer.alloc(11 * 1024 * 1024, 7); // > 2 parts of 5 MiB
      await new Upload({
        client,
        params: { Bucket: 'bundles', Key: 'big.bin', Body: Readable.from([big]) },
        partSize: 5 * 1024 * 1024,
      }).done();
      const back = await client.send(new GetObjectCommand({ Bucket: 'bundles', Key: 'big.bin' }));
      expect(Buffer.from(await back.Body!.transformToByteArray()).equals(big)).toBe(true);
    } finally {
      client.destroy();
      await s3.stop();
    }
  });

  it('the HTTP capture server records requests and awaits the next one', async () => {
    const http = await HttpCaptureServer.start();
    try {
      http.respondWith((r) => (r.path === '/fail' ? { status: 500 } : undefined));
      const pending = http.next((r) => r.path === '/hook');
      const res = await fetch(`${http.url}/hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event: 'failed' }),
      });
      expect(res.status).toBe(200);
      const captured = await pending;
      expect(captured.method).toBe('POST');
      expect(captured.json).toEqual({ event: 'failed' });
      expect((await fetch(`${http.url}/fail`)).status).toBe(500);
      await expect(http.next((r) => r.path === '/never', 200)).rejects.toThrow(/timed out after 200 ms/);
    } finally {
      await http.stop();
    }
  });
});
