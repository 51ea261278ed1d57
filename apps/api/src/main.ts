import 'reflect-metadata';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfigOrExit } from '@cronbundle/config';
import { startHttpApp } from '@cronbundle/observability';
import { ApiModule, BULL_BOARD_ROUTE } from './api.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit('api');
  await startHttpApp(
    config,
    (logger) => ApiModule.forRoot(config, logger),
    (app) => {
      app.setGlobalPrefix('api/v1', { exclude: ['health/live', 'health/ready', 'metrics', BULL_BOARD_ROUTE.slice(1)] });
      const document = SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle('cronbundle admin API')
          .setDescription('Schedules, runs and ships support bundles.')
          .setVersion(process.env.npm_package_version ?? '0.1.0')
          .addBearerAuth()
          .build(),
      );
      SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
    },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`cronbundle-api: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
