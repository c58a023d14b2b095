export { RedisModule, REDIS, RedisHealth, createRedis } from './redis.module';
export { GatewayBus } from './gateway-bus';
export type { GatewayEnvelope } from './gateway-bus';
export { PresenceStore, PRESENCE_TTL_SECONDS } from './presence-store';
export type { DevicePresence } from './presence-store';
export { MembershipService } from './membership.service';
export { isRedisOutage } from './redis-outage';
export { execAll } from './redis-pipeline';
