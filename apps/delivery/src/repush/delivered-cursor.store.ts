import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { execAll, REDIS } from '@im/realtime';
import { PendingPush } from './repush-schedule';

const DUE_KEY = 'repush:due';
const cursorKey = (userId: string, deviceId: string) => `dcur:${userId}|${deviceId}`;

// Raise a device's delivered cursor, never lower it.
const RAISE = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('EXPIRE', KEYS[1], 604800)
return 1`;

/**
 * Pushes waiting for a deliver_ack, in a Redis sorted set by due time, so any delivery
 * instance can re-push them and a restarted instance loses none.
 */
@Injectable()
export class PendingPushStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async schedule(entries: { push: PendingPush; dueAt: number }[]): Promise<void> {
    if (entries.length === 0) return;
    const args: (string | number)[] = [];
    for (const e of entries) args.push(e.dueAt, JSON.stringify(e.push));
    await this.redis.zadd(DUE_KEY, ...args);
  }

  /** Takes up to `limit` due entries; each is handed to exactly one caller. */
  async claimDue(now: number, limit: number): Promise<PendingPush[]> {
    const due = await this.redis.zrangebyscore(DUE_KEY, '-inf', now, 'LIMIT', 0, limit);
    if (due.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const member of due) pipeline.zrem(DUE_KEY, member);
    const removed = await execAll(pipeline);
    return due.filter((_, i) => removed[i] === 1).map((m) => JSON.parse(m) as PendingPush);
  }

  /** Raises devices' delivered cursors (never lowers them), in one pipeline: re-push reads them. */
  async raiseDeliveredCursors(
    moves: { userId: string; deviceId: string; conversationId: string; seq: number }[],
  ): Promise<void> {
    if (moves.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const m of moves) pipeline.eval(RAISE, 1, cursorKey(m.userId, m.deviceId), m.conversationId, m.seq);
    await execAll(pipeline);
  }

  async deliveredCursors(pushes: PendingPush[]): Promise<number[]> {
    if (pushes.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const p of pushes) pipeline.hget(cursorKey(p.userId, p.deviceId), p.conversationId);
    const replies = await execAll(pipeline);
    return replies.map((v) => Number(v ?? 0));
  }
}
