export { AppConfig, ConfigError, loadConfig, redisKeyPrefix, redisTarget } from './app-config';
export type { RedisTarget } from './redis-target';
export { ConfigModule } from './config.module';
