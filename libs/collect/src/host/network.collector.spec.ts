import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { AddressInfo } from 'node:net';
import { freePort } from '@cronbundle/testing';
import { collectHost } from '../test-helpers';
import { canonicalHeaders } from '../framework/http-request';
import { AddressGuard } from '../framework/net-guard';
import { splitHostPort } from './tcp.collector';

function listen<T extends Server | HttpServer>(server: T, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('tcpConnect', () => {
  it('connected to a listening server, connection-refused on a closed port, invalid-address for junk', async () => {
    const server = createServer((s) => s.end());
    const open = await listen(server);
    const closed = await freePort();
    try {
      const { sink, summary } = await collectHost([
        { tcpConnect: { collectorName: 'open', address: `127.0.0.1:${open}` } },
        { tcpConnect: { collectorName: 'closed', address: `127.0.0.1:${closed}`, timeout: '2s' } },
        { tcpConnect: { address: 'not an address' } },
      ]);
      expect(summary.failed).toBe(0);
      expect(sink.json('host-collectors/connect/open.json')).toEqual({ status: 'connected', message: '' });
      expect(sink.json('host-collectors/connect/closed.json')).toEqual({ status: 'connection-refused', message: '' });
      expect(sink.json('host-collectors/connect/connect.json')).toMatchObject({ status: 'invalid-address' });
    } finally {
      await close(server);
    }
  });

  it('parses host:port forms', () => {
    expect(splitHostPort('db.internal:5432')).toEqual({ host: 'db.internal', port: 5432 });
    expect(splitHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(splitHostPort('host:0')).toBeUndefined();
    expect(splitHostPort('host')).toBeUndefined();
  });
});

describe('tcpPortStatus', () => {
  it('connected when the port is free (our own listener answers), address-in-use when taken', async () => {
    const taken = createServer();
    const takenPort = await listen(taken, '0.0.0.0');
    const free = await freePort();
    try {
      const { sink } = await collectHost([
        { tcpPortStatus: { collectorName: 'free', port: free } },
        { tcpPortStatus: { collectorName: 'taken', port: takenPort } },
      ]);
      expect(sink.json('host-collectors/tcpPortStatus/free.json')).toEqual({ status: 'connected', message: '' });
      expect(sink.json('host-collectors/tcpPortStatus/taken.json')).toEqual({ status: 'address-in-use', message: '' });
    } finally {
      await close(taken);
    }
  });
});

describe('http', () => {
  let server: HttpServer;
  let port: number;
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/redirect') {
          res.writeHead(302, { location: '/json' }).end();
          return;
        }
        if (req.url === '/json') {
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.writeHead(200, { 'content-type': 'application/json', 'x-custom-thing': 'yes' });
          res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization ?? null, body }));
          return;
        }
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
      });
    });
    port = await listen(server);
  });
  afterAll(() => close(server));

  it('GET: status, body, canonical headers with repeated values joined, raw_json', async () => {
    const { sink } = await collectHost([
      {
        http: {
          collectorName: 'api',
          get: { url: `http://127.0.0.1:${port}/json`, headers: { Authorization: 'Bearer abc' } },
        },
      },
    ]);
    const result = sink.json('host-collectors/http/api.json') as {
      response: { status: number; body: string; headers: Record<string, string>; raw_json: unknown };
    };
    expect(result.response.status).toBe(200);
    expect(result.response.raw_json).toEqual({ method: 'GET', auth: 'Bearer abc', body: '' });
    expect(JSON.parse(result.response.body)).toEqual(result.response.raw_json);
    expect(result.response.headers['Content-Type']).toBe('application/json');
    expect(result.response.headers['X-Custom-Thing']).toBe('yes');
    expect(result.response.headers['Set-Cookie']).toBe('a=1,b=2');
  });

  it('POST with a body, follows redirects, records non-2xx statuses as responses', async () => {
    const { sink } = await collectHost([
      { http: { collectorName: 'post', post: { url: `http://127.0.0.1:${port}/json`, body: '{"x":1}' } } },
      { http: { collectorName: 'redirected', get: { url: `http://127.0.0.1:${port}/redirect` } } },
      { http: { get: { url: `http://127.0.0.1:${port}/down` } } },
    ]);
    expect(
      (sink.json('host-collectors/http/post.json') as { response: { raw_json: unknown } }).response.raw_json,
    ).toEqual({ method: 'POST', auth: null, body: '{"x":1}' });
    expect(sink.json('host-collectors/http/redirected.json')).toMatchObject({ response: { status: 200 } });
    const down = sink.json('host-collectors/http/result.json') as { response: Record<string, unknown> };
    expect(down.response).toMatchObject({ status: 503, body: 'down' });
    expect(down.response).not.toHaveProperty('raw_json');
  });

  it('records connection failures as {error:{message}} without resolved secrets', async () => {
    const closed = await freePort();
    const { sink, summary } = await collectHost(
      [{ http: { collectorName: 'refused', get: { url: `http://127.0.0.1:${closed}/?token=\${env:API_TOKEN}` } } }],
      { resolver: { resolve: async () => 's3cr3t-value' } },
    );
    expect(summary.failed).toBe(0);
    const text = sink.text('host-collectors/http/refused.json');
    expect(JSON.parse(text)).toEqual({ error: { message: expect.stringMatching(/ECONNREFUSED/) } });
    expect(text).not.toContain('s3cr3t-value');
    expect(text).toContain('${env:API_TOKEN}');
  });

  it('blocks 169.254.169.254 by default, and lets httpAllow open it', async () => {
    const blocked = await collectHost([
      { http: { get: { url: 'http://169.254.169.254/latest/meta-data/', timeout: '1s' } } },
    ]);
    expect(blocked.sink.json('host-collectors/http/result.json')).toEqual({
      error: { message: expect.stringMatching(/blocked.*169\.254\.169\.254.*link-local\/metadata/) },
    });

    const guard = new AddressGuard(['169.254.169.254/32']);
    expect(guard.refusal('169.254.169.254', '169.254.169.254')).toBeUndefined();
    expect(guard.refusal('x', '169.254.1.1')).toMatch(/blocked/);
    expect(new AddressGuard().refusal('metadata', 'fd00:ec2::254')).toMatch(/blocked/);
    expect(new AddressGuard(['metadata.internal']).refusal('metadata.internal', '169.254.169.254')).toBeUndefined();
    expect(new AddressGuard().refusal('localhost', '127.0.0.1')).toBeUndefined();
  });

  it('applies the guard after DNS resolution', async () => {
    const guard = new AddressGuard();
    const result = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      // `localhost` resolves to loopback: allowed; the lookup answers like dns.lookup
      guard.lookup('localhost', { all: false }, (err) => resolve(err));
    });
    expect(result).toBeNull();
    const blockedGuard = new AddressGuard();
    // A name that resolves to a blocked address: make one by allowing nothing and checking a literal through the lookup path.
    const blockedResult = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      blockedGuard.lookup('169.254.169.254', { all: true }, (err) => resolve(err));
    });
    expect(blockedResult?.code).toBe('EBLOCKED');
  });

  it('canonicalises header names like Go', () => {
    expect(canonicalHeaders(['content-TYPE', 'a', 'x-request-id', '1', 'X-Request-Id', '2'])).toEqual({
      'Content-Type': 'a',
      'X-Request-Id': '1,2',
    });
  });
});
