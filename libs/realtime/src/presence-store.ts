import type { RedisClient } from './redis-client';
import { execAll } from './redis-pipeline';
import { batchOf } from './slot-groups';
import { RedisScript } from './redis-script';

/** Where a device is connected right now. */
export interface DevicePresence {
  gatewayId: string;
  connId: string;
  connectedAt: number;
}

const presenceKey = (userId: string) => `presence:${userId}`;
/** Gateways refresh their connections well within this; a dead gateway's entries expire. */
export const PRESENCE_TTL_SECONDS = 60;

// Replace the device's entry and return the previous one.
const REGISTER = new RedisScript(
  `
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return old`,
  1,
);
// Remove the device's entry only if it is still this connection's.
const UNREGISTER = new RedisScript(
  `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and string.find(cur, ARGV[2], 1, true) then redis.call('HDEL', KEYS[1], ARGV[1]) return 1 end
return 0`,
  1,
);

/** user → device → gateway instance, in Redis. */
export class PresenceStore {
  constructor(private readonly redis: RedisClient) {}

  async register(userId: string, deviceId: string, presence: DevicePresence): Promise<DevicePresence | null> {
    const old = (await REGISTER.run(
      this.redis,
      presenceKey(userId),
      deviceId,
      JSON.stringify(presence),
      PRESENCE_TTL_SECONDS,
    )) as string | null;
    return old ? (JSON.parse(old) as DevicePresence) : null;
  }

  async unregister(userId: string, deviceId: string, connId: string): Promise<void> {
    await UNREGISTER.run(this.redis, presenceKey(userId), deviceId, `"connId":"${connId}"`);
  }

  /** Re-asserts a gateway's live connections (after a Redis flush they come back within one period). */
  async refresh(entries: { userId: string; deviceId: string; presence: DevicePresence }[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = batchOf(this.redis);
    for (const e of entries) {
      pipeline.hset(presenceKey(e.userId), e.deviceId, JSON.stringify(e.presence));
      pipeline.expire(presenceKey(e.userId), PRESENCE_TTL_SECONDS);
    }
    await execAll(pipeline);
  }

  async devicesOf(userIds: string[]): Promise<Map<string, Map<string, DevicePresence>>> {
    const result = new Map<string, Map<string, DevicePresence>>();
    if (userIds.length === 0) return result;
    const pipeline = batchOf(this.redis);
    for (const id of userIds) pipeline.hgetall(presenceKey(id));
    const replies = await execAll(pipeline);
    userIds.forEach((id, i) => {
      const hash = replies[i];
      const devices = new Map<string, DevicePresence>();
      for (const [deviceId, json] of Object.entries((hash ?? {}) as Record<string, string>)) {
        devices.set(deviceId, JSON.parse(json) as DevicePresence);
      }
      result.set(id, devices);
    });
    return result;
  }
}
