import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Server } from 'node:http';
import { parseConfig } from '@cronbundle/config';
import { createLogger } from '@cronbundle/observability';
import { testPrefix, testRedisUrl } from '@cronbundle/testing';
import { ApiModule } from '../api.module';
import { sha256Hex } from '../auth/token-store';
import { configureApi } from '../configure-api';

export const TEST_TOKENS = {
  admin: 'admin-token-0123456789',
  operator: 'operator-token-0123456789',
  viewer: 'viewer-token-0123456789',
} as const;

export interface TestApi {
  app: INestApplication;
  server: Server;
  prefix: string;
  /** Log lines written at warn or above. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * The api in process against the run's Redis, as main.ts builds it. `auth: true` writes a token file
 * with one token per role (TEST_TOKENS) to a temp dir; otherwise AUTH_DISABLED=true.
 */
export async function startTestApi(options: { auth?: boolean; env?: Record<string, string> } = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'cronbundle-api-'));
  const env: Record<string, string> = {
    REDIS_URL: testRedisUrl(),
    CRONBUNDLE_PREFIX: testPrefix(),
    PORT: '0',
    ...(options.auth ? { API_TOKENS_FILE: writeTokensFile(dir) } : { AUTH_DISABLED: 'true' }),
    ...options.env,
  };
  const config = parseConfig('api', env);
  const logs: string[] = [];
  const logger = createLogger({
    app: 'api',
    instanceId: 'test',
    level: 'warn',
    destination: new Writable({
      write: (chunk, _e, cb) => {
        logs.push(String(chunk));
        cb();
      },
    }),
  });
  const moduleRef = await Test.createTestingModule({ imports: [ApiModule.forRoot(config, logger)] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configureApi(app);
  await app.init();
  return {
    app,
    server: app.getHttpServer() as Server,
    prefix: config.prefix,
    logs,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function writeTokensFile(dir: string): string {
  const file = join(dir, 'tokens.yaml');
  const lines = Object.entries(TEST_TOKENS).map(
    ([role, token]) => `- name: ${role}-bot\n  role: ${role}\n  sha256: ${sha256Hex(token)}\n`,
  );
  writeFileSync(file, lines.join(''));
  return file;
}

export const bearer = (role: keyof typeof TEST_TOKENS) => ({ Authorization: `Bearer ${TEST_TOKENS[role]}` });

/** A valid job body. */
export function jobBody(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `Job ${id}`,
    labels: { team: 'sre' },
    schedule: { cron: '0 2 * * *', timezone: 'America/New_York' },
    spec: {
      apiVersion: 'troubleshoot.sh/v1beta2',
      kind: 'SupportBundle',
      metadata: { name: id },
      spec: { hostCollectors: [{ cpu: {} }, { memory: {} }] },
    },
    upload: { url: 's3://bucket/prefix/', credentialsRef: 'env:BUNDLES' },
    ...extra,
  };
}
