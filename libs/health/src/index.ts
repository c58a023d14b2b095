export { HealthModule } from './health.module';
export { HealthController, DependencyCheck, HEALTH_CHECKS } from './health.controller';
export { metrics } from './metrics';
export { bootstrapService } from './bootstrap';
