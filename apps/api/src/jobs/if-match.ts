import { HttpException, HttpStatus } from '@nestjs/common';
import { ValidationError } from '@cronbundle/core';

/**
 * `If-Match: <version>` (also `"3"`, `W/"3"`, as an ETag echo). `*` means any version. Missing:
 * 428 when required (PATCH), undefined otherwise (DELETE).
 */
export function expectedVersion(header: string | undefined, required: boolean): number | undefined {
  const value = header?.trim();
  if (!value) {
    if (!required) return undefined;
    throw new HttpException(
      {
        error: 'precondition_required',
        message: 'send If-Match: <version> (the job\'s current "version"; * to overwrite whatever is there)',
      },
      HttpStatus.PRECONDITION_REQUIRED,
    );
  }
  if (value === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(value);
  if (!m || Number(m[1]) < 1)
    throw new ValidationError([{ path: 'If-Match', message: 'must be the job version, a positive integer, or *' }]);
  return Number(m[1]);
}

export function etag(version: number): string {
  return `"${version}"`;
}
