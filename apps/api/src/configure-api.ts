import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { BULL_BOARD_ROUTE } from './api.module';

export const API_PREFIX = 'api/v1';

/** Routing and docs shared by main.ts and the in-process tests, so both serve the same app. */
export function configureApi(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready', 'metrics', BULL_BOARD_ROUTE.slice(1)] });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('cronbundle admin API')
      .setDescription('Schedules, runs and ships support bundles.')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
