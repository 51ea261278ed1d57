import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { createReferenceResolver } from '../framework/references';
import { collectHost } from '../test-helpers';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');
/** Self-signed for 127.0.0.1 and localhost. */
const CERT = fixture('tls-localhost-cert.pem');
const KEY = fixture('tls-localhost-key.pem');
/** Another self-signed certificate (CN=test): a CA that did not sign the server's certificate. */
const OTHER_CA = fixture('test-cert.pem');

type Outcome =
  | { response: { status: number; raw_json?: { authorized: boolean; clientCN: string | null } } }
  | { error: { message: string } };

describe('http host collector over TLS (local HTTPS server)', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // Asks for a client certificate (trusting the same self-signed one) but does not require it.
    server = createServer(
      { key: KEY, cert: CERT, ca: [CERT], requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ authorized: socket.authorized, clientCN: peer?.subject?.CN ?? null }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const outcome = (sink: { json(path: string): unknown }, name: string) =>
    sink.json(`host-collectors/http/${name}.json`) as Outcome;

  it('refuses the self-signed certificate by default and with a CA that did not sign it', async () => {
    const { sink, summary } = await collectHost([
      { http: { collectorName: 'default', get: { url } } },
      { http: { collectorName: 'wrong-ca', get: { url, tls: { cacert: OTHER_CA } } } },
    ]);
    expect(summary.failed).toBe(0);
    expect(outcome(sink, 'default')).toEqual({
      error: { message: expect.stringMatching(/self[- ]signed certificate/) },
    });
    expect(outcome(sink, 'wrong-ca')).toEqual({ error: { message: expect.stringMatching(/certificate/) } });
  });

  it('trusts tls.cacert, and skips verification with tls.skipVerify or insecureSkipVerify', async () => {
    const localhostUrl = url.replace('127.0.0.1', 'localhost');
    const { sink, summary } = await collectHost([
      { http: { collectorName: 'ca', get: { url, tls: { cacert: CERT } } } },
      { http: { collectorName: 'ca-by-name', get: { url: localhostUrl, tls: { cacert: CERT } } } },
      { http: { collectorName: 'skip', get: { url, tls: { skipVerify: true } } } },
      { http: { collectorName: 'insecure', get: { url, insecureSkipVerify: true } } },
    ]);
    expect(summary.failed).toBe(0);
    for (const name of ['ca', 'ca-by-name', 'skip', 'insecure'])
      expect(outcome(sink, name)).toMatchObject({
        response: { status: 200, raw_json: { authorized: false, clientCN: null } },
      });
  });

  it('presents tls.clientCert/clientKey, with the key from a reference that never reaches the bundle', async () => {
    const { sink, summary } = await collectHost(
      [
        {
          http: {
            collectorName: 'mtls',
            post: { url, body: 'x', tls: { cacert: CERT, clientCert: CERT, clientKey: '${env:CLIENT_KEY}' } },
          },
        },
      ],
      { resolver: createReferenceResolver({ env: { CLIENT_KEY: KEY } }) },
    );
    expect(summary.failed).toBe(0);
    expect(outcome(sink, 'mtls')).toMatchObject({
      response: { status: 200, raw_json: { authorized: true, clientCN: 'cronbundle-test-localhost' } },
    });
    const keyBody = KEY.split('\n')[1]!;
    expect([...sink.files.values()].join('\n')).not.toContain(keyBody);
  });

  it('records tls.secret and a client certificate without its key as errors', async () => {
    const { sink } = await collectHost([
      { http: { collectorName: 'secret', get: { url, tls: { secret: { name: 'tls', namespace: 'default' } } } } },
      { http: { collectorName: 'half', get: { url, tls: { clientCert: CERT } } } },
    ]);
    expect(outcome(sink, 'secret')).toEqual({
      error: { message: expect.stringMatching(/^tls\.secret .* is not supported/) },
    });
    expect(outcome(sink, 'half')).toEqual({
      error: { message: 'tls.clientCert and tls.clientKey must be given together' },
    });
  });
});
