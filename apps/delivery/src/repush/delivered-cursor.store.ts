import { Inject, Injectable } from '@nestjs/common';
import { batchOf, execAll, REDIS, RedisScript, type RedisClient } from '@im/realtime';
import { PendingPush } from './repush-schedule';
import type { CursorMove } from '@im/database';

const cursorKey = (userId: string, deviceId: string) => `dcur:${userId}|${deviceId}`;

// Raise a device's delivered cursor, never lower it.
const RAISE = new RedisScript(
  `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('EXPIRE', KEYS[1], 604800)
return 1`,
  1,
);

/**
 * Devices' delivered cursors in Redis, raised by whichever delivery instance handles the
 * deliver_ack, so the instance that pushed can tell at re-push time what was acknowledged.
 */
@Injectable()
export class DeliveredCursorStore {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {
    RAISE.define(redis);
  }

  /** Raises devices' delivered cursors (never lowers them), in one pipeline: re-push reads them. */
  async raiseDeliveredCursors(moves: readonly CursorMove[]): Promise<void> {
    if (moves.length === 0) return;
    const pipeline = batchOf(this.redis);
    for (const m of moves) RAISE.queue(pipeline, cursorKey(m.userId, m.deviceId), m.conversationId, m.seq);
    await execAll(pipeline);
  }

  async deliveredCursors(pushes: PendingPush[]): Promise<number[]> {
    if (pushes.length === 0) return [];
    const pipeline = batchOf(this.redis);
    for (const p of pushes) pipeline.hget(cursorKey(p.userId, p.deviceId), p.conversationId);
    const replies = await execAll(pipeline);
    return replies.map((v) => Number(v ?? 0));
  }
}
