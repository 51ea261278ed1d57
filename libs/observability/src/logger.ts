import { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import pino, { Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export interface LoggerOptions {
  app: string;
  instanceId: string;
  level: string;
  /** Where to write; stdout by default. Tests pass a stream to read the lines back. */
  destination?: pino.DestinationStream;
}

/**
 * Keys whose values never reach a log line, wherever they appear (one or two levels deep).
 * Values are replaced, the key stays, so a reader can see that something was there.
 */
const SECRET_KEYS = [
  'password',
  'token',
  'secret',
  'authorization',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'apiKey',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { app: options.app, instance: options.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

const NEST_CHATTER = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Nest's LoggerService on top of pino: Nest's own messages become JSON lines like ours. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    // Nest's start-up chatter (modules initialised, routes mapped) is debug detail, not news.
    const context = rest[rest.length - 1];
    this.write(typeof context === 'string' && NEST_CHATTER.has(context) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }
  setLogLevels(_levels: NestLogLevel[]): void {
    // The level is LOG_LEVEL, set once on the pino logger.
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    // Nest passes the context (class name) as the last string argument, and a stack before it for errors.
    const args = [...rest];
    const component = typeof args[args.length - 1] === 'string' ? (args.pop() as string) : undefined;
    const fields: Record<string, unknown> = {};
    if (component) fields.component = component;
    const stack = args.find((a) => typeof a === 'string' && a.includes('\n    at '));
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as object) });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
