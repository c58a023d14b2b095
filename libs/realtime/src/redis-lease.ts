import type { RedisClient } from './redis-client';
import { RedisScript } from './redis-script';

// Take the lease when free, or extend it when this owner already holds it.
const HOLD = new RedisScript(
  `
local cur = redis.call('GET', KEYS[1])
if cur == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`,
  1,
);
// Give the lease up only if this owner still holds it (it may have expired and passed on).
const RELEASE = new RedisScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  1,
);

/**
 * A lease in Redis: at most one owner (an instance id) does a piece of work at a time, and
 * when that owner stops renewing, another takes over after `ttlMs`. Used by the catch-up
 * (one delivery instance per round) and by broadcasts (one gateway per job).
 */
export class RedisLease {
  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly owner: string,
  ) {}

  /** Takes the lease, or keeps it if this owner holds it; false while another owner does. */
  async hold(ttlMs: number): Promise<boolean> {
    return (await HOLD.run(this.redis, this.key, this.owner, ttlMs)) === 1;
  }

  async release(): Promise<void> {
    await RELEASE.run(this.redis, this.key, this.owner);
  }

  /** Whether anyone holds the lease now. */
  async isHeld(): Promise<boolean> {
    return (await this.redis.exists(this.key)) === 1;
  }
}

/** Hands out this instance's leases over the shared client (provided by RedisModule). */
export class RedisLeases {
  constructor(
    private readonly redis: RedisClient,
    private readonly owner: string,
  ) {}

  /** The lease named `key` (the client's key prefix makes it this deployment's), held as this instance. */
  named(key: string): RedisLease {
    return new RedisLease(this.redis, key, this.owner);
  }
}
