export type { AppConfig, AppName, ConfigVariable } from './config.schema';
export { CONFIG_VARIABLES, ConfigError, DEFAULT_HTTP_PORTS, loadConfigOrExit, parseConfig } from './config.schema';
export { APP_CONFIG, ConfigModule } from './config.module';
