import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

const JSON_TYPE = /^application\/(.+\+)?json$/i;
/** Only POST /specs/validate reads text (a YAML spec); the rest of the API is JSON. */
const TEXT_TYPES = ['text/plain', 'text/yaml', 'text/x-yaml', 'application/yaml', 'application/x-yaml'];

function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function sendError(res: Response, status: number, error: string, message: string): void {
  res.status(status).json({ error, message });
}

/**
 * Body handling ahead of Nest's own parsers (which then find the stream consumed and skip):
 * JSON (any top-level value; handlers check the shape) and YAML/text, both capped at `limitBytes`;
 * other media types 415. Parser failures become JSON errors here because express middleware
 * errors never reach Nest's exception filters.
 */
export function configureBodyParsing(app: NestExpressApplication, limitBytes: number): void {
  app.use(function requireSupportedMediaType(req: Request, res: Response, next: NextFunction) {
    if (!hasBody(req)) return next();
    const type = mediaType(req);
    if (JSON_TYPE.test(type) || TEXT_TYPES.includes(type)) return next();
    sendError(
      res,
      415,
      'unsupported_media_type',
      type
        ? `content type ${type} is not supported; send application/json`
        : 'a request body needs Content-Type: application/json',
    );
  });
  app.useBodyParser('json', {
    limit: limitBytes,
    strict: false,
    type: (req) => JSON_TYPE.test(mediaType(req as Request)),
  });
  app.useBodyParser('text', { limit: limitBytes, type: TEXT_TYPES });
  // Four parameters: express calls it only for errors raised by the parsers above.
  app.use(function bodyParserErrors(err: unknown, _req: Request, res: Response, next: NextFunction) {
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    if (typeof e?.type !== 'string') return next(err);
    switch (e.type) {
      case 'entity.too.large':
        return sendError(res, 413, 'payload_too_large', `request body is larger than ${limitBytes} bytes`);
      case 'entity.parse.failed':
        return sendError(res, 400, 'malformed_json', `request body is not valid JSON: ${e.message ?? 'parse error'}`);
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendError(res, 415, 'unsupported_media_type', e.message ?? 'unsupported encoding');
      default:
        return sendError(
          res,
          e.status && e.status < 500 ? e.status : 400,
          'bad_request',
          e.message ?? 'bad request body',
        );
    }
  });
}
