import type { Redis } from 'ioredis';

/** ioredis prefixes keys, not channels: the deployment's prefix is added here. */
export const membershipChannel = (redis: Redis) => `${redis.options.keyPrefix ?? ''}membership`;
