export { createLogger, NestPinoLogger } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { Metrics, METRIC_PREFIX } from './metrics';
export { LOGGER, ObservabilityModule } from './observability.module';
export { startHttpApp } from './bootstrap';
export type { StartedApp } from './bootstrap';
