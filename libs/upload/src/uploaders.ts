import { FileUploader } from './file.uploader';
import type { Uploader, UploadRequest, UploadResult } from './uploader.types';

/** Picks the uploader of a destination's scheme; an unknown scheme is an error, never a silent no-op. */
export class Uploaders {
  private readonly byScheme = new Map<string, Uploader>();

  constructor(uploaders: Uploader[] = [new FileUploader()]) {
    for (const u of uploaders) for (const s of u.schemes) this.byScheme.set(s, u);
  }

  supports(destination: string): boolean {
    return this.byScheme.has(schemeOf(destination));
  }

  upload(request: UploadRequest): Promise<UploadResult> {
    const scheme = schemeOf(request.destination);
    const uploader = this.byScheme.get(scheme);
    if (!uploader) {
      return Promise.reject(
        new Error(
          `no uploader for ${scheme || 'this'} destinations (supported: ${[...this.byScheme.keys()].join(', ')})`,
        ),
      );
    }
    return uploader.upload(request);
  }
}

function schemeOf(destination: string): string {
  try {
    return new URL(destination).protocol;
  } catch {
    return '';
  }
}
