import { hostname } from 'node:os';
import { z } from 'zod';

/** The processes that read configuration; each has its own default HTTP port. */
export type AppName = 'api' | 'scheduler' | 'worker' | 'cli';

export const DEFAULT_HTTP_PORTS: Record<AppName, number> = {
  api: 3000,
  scheduler: 3001,
  worker: 3002,
  cli: 0,
};

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`));

const redisUrl = z
  .string()
  .trim()
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
      } catch {
        return false;
      }
    },
    { error: 'must be a redis:// or rediss:// URL with a host' },
  );

/**
 * Every environment variable cronbundle reads, with its default and a one-line description.
 * This is the only place `process.env` is interpreted; README's configuration table is checked
 * against `CONFIG_VARIABLES` by a test so the docs cannot drift from the code.
 */
export const CONFIG_VARIABLES = {
  REDIS_URL: {
    schema: redisUrl,
    default: 'redis://127.0.0.1:6379',
    secret: true,
    doc: 'Redis to use (redis:// or rediss://, may carry user:password). `cronbundle up` starts its own when unset.',
  },
  REDIS_MODE: {
    schema: z.enum(['standalone'], { error: 'must be standalone (sentinel and cluster are not supported yet)' }),
    default: 'standalone',
    doc: 'How to reach Redis. Only `standalone` is supported today.',
  },
  CRONBUNDLE_PREFIX: {
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
    default: 'cronbundle',
    doc: 'Prefix of every Redis key and BullMQ queue, so several installations can share one Redis.',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    }),
    default: 'info',
    doc: 'Lowest level written to the JSON log on stdout.',
  },
  HTTP_HOST: {
    schema: z.string().trim().min(1, 'must not be empty'),
    default: '0.0.0.0',
    doc: 'Address the HTTP server (API, health, metrics) listens on.',
  },
  PORT: {
    schema: int(0, 65535),
    default: String(DEFAULT_HTTP_PORTS.api),
    doc: 'API port (REST API, Bull Board, docs, health, metrics). Read by the api only.',
  },
  HTTP_PORT: {
    schema: int(0, 65535),
    default: undefined,
    doc: 'Health and metrics port of the scheduler (default 3001) and the worker (default 3002).',
  },
  WORKER_CONCURRENCY: {
    schema: int(1, 1000),
    default: '10',
    doc: 'Runs one worker process executes at the same time.',
  },
  RUN_LOCK_MS: {
    schema: int(1000, 3_600_000),
    default: '15000',
    doc: "TTL of a job's run lock (overlap policies); renewed every third of it while the run lives, so a crashed worker's lock frees within this. Read by the worker.",
  },
  UPLOAD_DEFAULT_URL: {
    schema: z
      .string()
      .trim()
      .refine((v) => /^(file|s3|https?):\/\/./.test(v), { error: 'must be a file://, s3:// or http(s):// URL' }),
    default: undefined,
    doc: 'Upload destination for jobs without `upload.url`, e.g. `file:///var/lib/cronbundle/bundles/`. Unset: such runs keep no bundle. Read by the worker.',
  },
  COLLECT_ALLOW_RUN: {
    schema: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true'),
    default: 'false',
    doc: 'Let the worker execute `run` collectors (commands on the worker host). Read by the worker.',
  },
  COLLECT_ALLOWED_PATHS: {
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().startsWith('/', 'must be absolute paths, comma-separated'))),
    default: undefined,
    doc: 'Comma-separated absolute paths `copy` collectors may read on the worker host. Read by the worker.',
  },
  COLLECT_HTTP_ALLOW: {
    schema: z.string().transform((v) =>
      v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
    default: undefined,
    doc: 'Comma-separated CIDRs, IPs or host names `http` collectors may reach although link-local (cloud metadata is blocked by default). Read by the worker.',
  },
  MAX_BUNDLE_BYTES: {
    schema: int(1024, 2 ** 40),
    default: '1073741824',
    doc: 'Bundle size budget (uncompressed bytes) for jobs that set no `limits.maxBundleBytes`; past it collection stops, truncated collectors are recorded and the bundle still uploads. Read by the worker.',
  },
  SHUTDOWN_GRACE_MS: {
    schema: int(0, 600_000),
    default: '8000',
    doc: 'On SIGTERM/SIGINT, how long a process lets in-flight work finish before it closes anyway.',
  },
  INSTANCE_ID: {
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 letters, digits, _ . : or -'),
    default: undefined,
    doc: 'Name of this process in logs, heartbeats and execution records. Default `<hostname>:<pid>`.',
  },
  API_TOKENS_FILE: {
    schema: z.string().trim().min(1, 'must be a file path'),
    default: undefined,
    doc: 'API bearer tokens: a YAML or JSON list of `{name, role, sha256}` (docs/API.md). Required by the api unless AUTH_DISABLED=true.',
  },
  AUTH_DISABLED: {
    schema: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true'),
    default: 'false',
    doc: 'Turn API authentication off (every caller is an anonymous admin). For `cronbundle up` on a laptop only; logged as a warning.',
  },
  API_BODY_LIMIT_BYTES: {
    schema: int(1024, 64 * 1024 * 1024),
    default: '1048576',
    doc: 'Largest request body the api accepts; bigger ones are answered 413.',
  },
  JOBS_DIR: {
    schema: z.string().trim().min(1, 'must be a directory path'),
    default: undefined,
    doc: 'Directory of YAML job definitions, loaded by the api as read-only `source: file` jobs and re-synced on change.',
  },
  LEADER_LEASE_MS: {
    schema: int(500, 600_000),
    default: '5000',
    doc: 'Scheduler leader lease. The leader renews every third of it; a follower takes over within it after a crash.',
  },
  RECONCILE_INTERVAL_MS: {
    schema: int(1000, 86_400_000),
    default: '60000',
    doc: 'How often the leader re-applies every definition to BullMQ as a safety net (changes apply at once anyway).',
  },
  SLOT_GRACE_MS: {
    schema: int(1000, 3_600_000),
    default: '10000',
    doc: 'How long after its time a slot with no run and no queued BullMQ job is recorded as missed (or caught up).',
  },
  SCHEDULER_DEFAULT_TIMEZONE: {
    schema: z
      .string()
      .trim()
      .refine(
        (tz) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        },
        { error: 'must be an IANA time zone such as UTC or Europe/Berlin' },
      ),
    default: 'UTC',
    doc: 'Time zone of job schedules that name none.',
  },
} as const satisfies Record<
  string,
  { schema: z.ZodType<unknown, string>; default: string | undefined; doc: string; secret?: boolean }
>;

export type ConfigVariable = keyof typeof CONFIG_VARIABLES;

export interface AppConfig {
  app: AppName;
  instanceId: string;
  redis: { url: string; mode: 'standalone' };
  prefix: string;
  logLevel: z.infer<(typeof CONFIG_VARIABLES)['LOG_LEVEL']['schema']>;
  http: { host: string; port: number };
  worker: {
    concurrency: number;
    runLockMs: number;
    uploadDefaultUrl?: string;
    collect: { allowRun: boolean; allowedPaths: string[]; httpAllow: string[]; maxBundleBytes: number };
  };
  shutdownGraceMs: number;
  scheduler: { leaseMs: number; reconcileIntervalMs: number; slotGraceMs: number; defaultTimezone: string };
  /** Read by the api. */
  api: { tokensFile?: string; authDisabled: boolean; bodyLimitBytes: number; jobsDir?: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(problems.map((p) => `${p.variable}: ${p.message}`).join('; '));
    this.name = 'ConfigError';
  }
}

/** Parse the environment for one app. Throws ConfigError naming every bad variable (never its value). */
export function parseConfig(app: AppName, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: { variable: string; message: string }[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(CONFIG_VARIABLES) as [
    ConfigVariable,
    (typeof CONFIG_VARIABLES)[ConfigVariable],
  ][]) {
    const raw = env[name];
    const input = raw === undefined || raw === '' ? variable.default : raw;
    if (input === undefined) continue;
    const result = (variable.schema as z.ZodType<unknown, string>).safeParse(input);
    if (result.success) values[name] = result.data;
    else problems.push({ variable: name, message: result.error.issues.map((i) => i.message).join(', ') });
  }
  if (problems.length) throw new ConfigError(problems);
  const port =
    app === 'api' ? (values.PORT as number) : ((values.HTTP_PORT as number | undefined) ?? DEFAULT_HTTP_PORTS[app]);
  return {
    app,
    instanceId: (values.INSTANCE_ID as string | undefined) ?? `${hostname()}:${process.pid}`,
    redis: { url: values.REDIS_URL as string, mode: values.REDIS_MODE as 'standalone' },
    prefix: values.CRONBUNDLE_PREFIX as string,
    logLevel: values.LOG_LEVEL as AppConfig['logLevel'],
    http: { host: values.HTTP_HOST as string, port },
    worker: {
      concurrency: values.WORKER_CONCURRENCY as number,
      runLockMs: values.RUN_LOCK_MS as number,
      uploadDefaultUrl: values.UPLOAD_DEFAULT_URL as string | undefined,
      collect: {
        allowRun: values.COLLECT_ALLOW_RUN as boolean,
        allowedPaths: (values.COLLECT_ALLOWED_PATHS as string[] | undefined) ?? [],
        httpAllow: (values.COLLECT_HTTP_ALLOW as string[] | undefined) ?? [],
        maxBundleBytes: values.MAX_BUNDLE_BYTES as number,
      },
    },
    shutdownGraceMs: values.SHUTDOWN_GRACE_MS as number,
    scheduler: {
      leaseMs: values.LEADER_LEASE_MS as number,
      reconcileIntervalMs: values.RECONCILE_INTERVAL_MS as number,
      slotGraceMs: values.SLOT_GRACE_MS as number,
      defaultTimezone: values.SCHEDULER_DEFAULT_TIMEZONE as string,
    },
    api: {
      tokensFile: values.API_TOKENS_FILE as string | undefined,
      authDisabled: values.AUTH_DISABLED as boolean,
      bodyLimitBytes: values.API_BODY_LIMIT_BYTES as number,
      jobsDir: values.JOBS_DIR as string | undefined,
    },
  };
}

/**
 * Boot-time variant: on a bad value print one line naming the variable(s) and exit non-zero,
 * before anything connects or listens.
 */
export function loadConfigOrExit(app: AppName, env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return parseConfig(app, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cronbundle-${app}: invalid configuration: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
