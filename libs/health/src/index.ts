export { HealthModule } from './health.module';
export type { Dependency } from './health.module';
export { HealthController, HEALTH_CHECKS } from './health.controller';
export type { DependencyCheck } from './health.controller';
export { bootstrapService } from './bootstrap';
export { JsonLogger } from './json-logger';
