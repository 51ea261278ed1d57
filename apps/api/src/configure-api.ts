import { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { APP_CONFIG } from '@cronbundle/config';
import type { AppConfig } from '@cronbundle/config';
import { API_PREFIX, BULL_BOARD_ROUTE } from './api.constants';
import { configureBodyParsing } from './http/body-parsing';
import { withContracts } from './openapi/openapi-document';

export { API_PREFIX };

/** The OpenAPI document: every route Nest knows, each described by its zod contract. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const base = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('cronbundle admin API')
      .setDescription('Schedules, runs and ships support bundles. See docs/API.md.')
      .setVersion('0.1.0')
      .build(),
  );
  return withContracts(app, base);
}

/** Routing, body parsing and docs shared by main.ts and the in-process tests, so both serve the same app. */
export function configureApi(app: INestApplication): void {
  const config = app.get<AppConfig>(APP_CONFIG);
  configureBodyParsing(app as NestExpressApplication, config.api.bodyLimitBytes);
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready', 'metrics', BULL_BOARD_ROUTE.slice(1)] });
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
