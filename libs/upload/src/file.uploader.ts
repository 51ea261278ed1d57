import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Uploader, UploadRequest, UploadResult } from './uploader.types';

/**
 * `file://` destinations: copy to a temp name in the target directory, then rename, so a reader
 * never sees a partial bundle (rename is atomic within one filesystem). Directories are created.
 */
export class FileUploader implements Uploader {
  readonly schemes = ['file:'] as const;

  async upload(request: UploadRequest): Promise<UploadResult> {
    const root = fileURLToPath(
      new URL(request.destination.endsWith('/') ? request.destination : `${request.destination}/`),
    );
    const target = resolve(root, ...request.objectName.split('/'));
    if (!target.startsWith(resolve(root) + sep))
      throw new Error(`object name escapes the destination: ${request.objectName}`);
    await mkdir(dirname(target), { recursive: true });
    const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.partial`);
    try {
      await pipeline(createReadStream(request.file), createWriteStream(temp, { flags: 'wx' }), {
        ...(request.signal ? { signal: request.signal } : {}),
      });
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { url: pathToFileURL(target).href };
  }
}
