import { MariaDbServer, PostgresServer, freePort } from '@cronbundle/testing';
import { Client } from 'pg';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { createDefaultRegistry } from '../default-registry';
import { createReferenceResolver } from '../framework/references';
import { runCollectors } from '../framework/run-collectors';
import { parseSpec } from '../spec/spec-parser';
import { MemorySink } from '../test-helpers';

/** Run in-cluster collector entries through the real runner; `env` backs `${env:…}` references. */
async function collect(collectors: Record<string, unknown>[], env: Record<string, string> = {}) {
  const { spec } = parseSpec({ apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { collectors } });
  const sink = new MemorySink();
  const summary = await runCollectors(spec, sink, {
    registry: createDefaultRegistry(),
    resolver: createReferenceResolver({ env }),
    timeoutMs: 15_000,
  });
  return { sink, summary };
}

const allText = (sink: MemorySink) => [...sink.files.values()].map((b) => b.toString()).join('\n');

describe('postgres collector (real PostgreSQL)', () => {
  let pg: PostgresServer;
  let serverVersion: string;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    const client = new Client({ connectionString: pg.uri });
    await client.connect();
    try {
      serverVersion = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    } finally {
      await client.end();
    }
  }, 90_000);
  afterAll(async () => {
    await pg?.stop();
  }, 30_000);

  it('connects with a ${env:} password and writes {isConnected, version} at postgres/<name>.json', async () => {
    const uri = `postgresql://${pg.user}:\${env:PG_PASSWORD}@127.0.0.1:${pg.port}/postgres`;
    const { sink, summary } = await collect([{ postgres: { collectorName: 'app-db', uri } }, { postgres: { uri } }], {
      PG_PASSWORD: pg.password,
    });
    expect(summary.failed).toBe(0);
    const expected = { isConnected: true, version: serverVersion.split(' ')[0] };
    expect(expected.version).toMatch(/^\d+\.\d+$/);
    expect(sink.json('postgres/app-db.json')).toEqual(expected);
    expect(sink.json('postgres/postgres.json')).toEqual(expected);
    expect(allText(sink)).not.toContain(pg.password);
  });

  it('records a failed login as isConnected: false with the error, never the password', async () => {
    const wrong = 'wrong-password-7f3a';
    const { sink, summary } = await collect(
      [
        {
          postgres: {
            collectorName: 'bad-login',
            uri: `postgresql://${pg.user}:\${env:WRONG}@127.0.0.1:${pg.port}/postgres`,
          },
        },
      ],
      { WRONG: wrong },
    );
    expect(summary.failed).toBe(0); // a refused login is data, not a collector failure
    const result = sink.json('postgres/bad-login.json') as { isConnected: boolean; error: string };
    expect(result).toEqual({ isConnected: false, error: expect.stringMatching(/password authentication failed/) });
    expect(allText(sink)).not.toContain(wrong);
  });

  it('records a refused connection and a bad uri as isConnected: false', async () => {
    const closed = await freePort();
    const { sink } = await collect([
      { postgres: { collectorName: 'down', uri: `postgresql://u:p@127.0.0.1:${closed}/db` } },
      { postgres: { collectorName: 'not-pg', uri: 'mysql://u:p@127.0.0.1/db' } },
    ]);
    expect(sink.json('postgres/down.json')).toEqual({
      isConnected: false,
      error: expect.stringMatching(/ECONNREFUSED/),
    });
    expect(sink.json('postgres/not-pg.json')).toEqual({
      isConnected: false,
      error: 'uri must start with postgres:// or postgresql://',
    });
  });
});

describe('mysql collector (real MariaDB)', () => {
  let db: MariaDbServer;
  let serverVersion: string;
  let variables: Record<string, string>;

  beforeAll(async () => {
    db = await MariaDbServer.start();
    const conn = await createConnection({ uri: db.uri });
    serverVersion = String((await conn.query<RowDataPacket[]>('SELECT version() AS v'))[0][0]!.v);
    const [rows] = await conn.query<RowDataPacket[]>(
      "SHOW VARIABLES WHERE Variable_name IN ('max_connections', 'character_set_server')",
    );
    variables = Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
    await conn.end();
  }, 120_000);
  afterAll(async () => {
    await db?.stop();
  }, 40_000);

  it("connects with mysql:// and with troubleshoot's tcp() DSN, reading version and parameters", async () => {
    const { sink, summary } = await collect(
      [
        { mysql: { collectorName: 'url-form', uri: `mysql://${db.user}:\${env:MY_PW}@127.0.0.1:${db.port}/mysql` } },
        {
          mysql: {
            uri: `${db.user}:\${env:MY_PW}@tcp(127.0.0.1:${db.port})/mysql`,
            parameters: ['max_connections', 'character_set_server'],
          },
        },
      ],
      { MY_PW: db.password },
    );
    expect(summary.failed).toBe(0);
    const version = /^\d+\.\d+\.\d+/.exec(serverVersion)![0];
    expect(sink.json('mysql/url-form.json')).toEqual({ isConnected: true, version });
    expect(sink.json('mysql/mysql.json')).toEqual({ isConnected: true, version, variables });
    expect(Object.keys(variables).sort()).toEqual(['character_set_server', 'max_connections']);
    expect(allText(sink)).not.toContain(db.password);
  });

  it('records a failed login and a refused port as isConnected: false', async () => {
    const closed = await freePort();
    const wrong = 'wrong-password-91bc';
    const { sink, summary } = await collect(
      [
        { mysql: { collectorName: 'bad-login', uri: `${db.user}:\${env:WRONG}@tcp(127.0.0.1:${db.port})/mysql` } },
        { mysql: { collectorName: 'down', uri: `mysql://u:p@127.0.0.1:${closed}/db` } },
      ],
      { WRONG: wrong },
    );
    expect(summary.failed).toBe(0);
    expect(sink.json('mysql/bad-login.json')).toEqual({
      isConnected: false,
      error: expect.stringMatching(/Access denied/),
    });
    expect(sink.json('mysql/down.json')).toEqual({ isConnected: false, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(allText(sink)).not.toContain(wrong);
  });
});
