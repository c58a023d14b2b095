export { AppConfig, ConfigError, loadConfig, redisKeyPrefix } from './app-config';
export { ConfigModule } from './config.module';
