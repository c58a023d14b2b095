export { RedisModule, REDIS, RedisHealth, createRedis } from './redis.module';
export { GatewayBus, GatewayEnvelope, gatewayChannel } from './gateway-bus';
export { PresenceStore, DevicePresence, PRESENCE_TTL_SECONDS } from './presence-store';
export { MembershipService } from './membership.service';
