import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from '@cronbundle/config';
import { createLogger, Logger, NestPinoLogger } from './logger';

export interface StartedApp {
  app: INestApplication;
  logger: Logger;
  url: string;
}

/**
 * Boot a Nest HTTP app with our logger and our signal handling. Nest's own shutdown hooks re-raise
 * the signal after closing, which makes the exit code 143; operators and `cronbundle up` expect 0
 * for a clean stop, so SIGTERM/SIGINT are handled here: close the app (which closes Redis), exit 0,
 * or exit 1 if closing takes longer than the grace period plus a margin.
 */
export async function startHttpApp(
  config: AppConfig,
  buildModule: (logger: Logger) => Type<unknown> | import('@nestjs/common').DynamicModule,
  configure?: (app: INestApplication, logger: Logger) => void | Promise<void>,
): Promise<StartedApp> {
  const logger = createLogger({ app: config.app, instanceId: config.instanceId, level: config.logLevel });
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

  const app = await NestFactory.create(buildModule(logger), {
    logger: new NestPinoLogger(logger),
    bufferLogs: false,
    abortOnError: false,
  });
  if (configure) await configure(app, logger);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const hardStop = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 1500);
    hardStop.unref();
    app
      .close()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const url = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
  logger.info({ url, port }, `${config.app} listening`);
  return { app, logger, url };
}
