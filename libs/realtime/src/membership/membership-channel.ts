import type { RedisClient } from '../redis-client';

/** ioredis prefixes keys, not channels: the deployment's prefix is added here. */
export const membershipChannel = (redis: RedisClient) => `${redis.options.keyPrefix ?? ''}membership`;
