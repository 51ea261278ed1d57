import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withDeadline } from './wait';

export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  receivedAt: number;
}

type Responder = (
  req: CapturedRequest,
) => { status?: number; body?: string | Buffer; headers?: Record<string, string> } | undefined;

/**
 * A tiny real HTTP server that records every request (webhook targets, HTTP upload targets, HTTP
 * collector targets). `next()` awaits the next request with a deadline instead of polling.
 */
export class HttpCaptureServer {
  readonly requests: CapturedRequest[] = [];
  private waiters: { match: (r: CapturedRequest) => boolean; resolve: (r: CapturedRequest) => void }[] = [];
  private responder: Responder = () => undefined;

  private constructor(private readonly server: Server) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<HttpCaptureServer> {
    const server = createServer();
    const capture = new HttpCaptureServer(server);
    server.on('request', (req, res) => void capture.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return capture;
  }

  /** Decide the response per request (default: 200 with an empty body). */
  respondWith(responder: Responder): void {
    this.responder = responder;
  }

  /** The first recorded request matching `match`, or the next one to arrive, within `timeoutMs`. */
  next(match: (r: CapturedRequest) => boolean = () => true, timeoutMs = 10_000): Promise<CapturedRequest> {
    const seen = this.requests.find(match);
    if (seen) return Promise.resolve(seen);
    const arrived = new Promise<CapturedRequest>((resolve) => this.waiters.push({ match, resolve }));
    return withDeadline(arrived, timeoutMs, 'an HTTP request at the capture server');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    let json: unknown;
    if (String(req.headers['content-type'] ?? '').includes('json')) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    const captured: CapturedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body,
      json,
      receivedAt: Date.now(),
    };
    this.requests.push(captured);
    const reply = this.responder(captured) ?? {};
    res.writeHead(reply.status ?? 200, reply.headers ?? {});
    res.end(reply.body ?? '');
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(captured)) return true;
      w.resolve(captured);
      return false;
    });
  }
}
