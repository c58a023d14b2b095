import { repushDelay } from '../repush/repush-schedule';

/** A member of a recently active conversation, and how far the conversation has got. */
export interface ActiveMembership {
  conversationId: string;
  userId: string;
  lastSeq: number;
}

/** An online device: where it is connected, and since when. */
export interface OnlineDevice {
  userId: string;
  deviceId: string;
  connId: string;
  connectedAt: number;
}

/** Backoff per (connection, conversation): the catch-up pushes with the re-push schedule. */
export interface CatchUpState {
  /** The device's delivered cursor when we last pushed; a moved cursor starts over. */
  cursor: number;
  attempt: number;
  dueAt: number;
}

export interface CatchUpTask {
  device: OnlineDevice;
  conversationId: string;
  /** Push the stored messages after this seq, up to `upTo`. */
  afterSeq: number;
  upTo: number;
}

export interface CatchUpInput {
  memberships: ActiveMembership[];
  devicesOf: Map<string, OnlineDevice[]>;
  /** Delivered cursor per `${userId}|${deviceId}|${conversationId}`; missing means 0. */
  cursors: Map<string, number>;
  state: Map<string, CatchUpState>;
  now: number;
  initialMs: number;
  maxMs: number;
  /** At most this many tasks per round; the rest wait for the next one. */
  limit: number;
}

export const cursorKey = (userId: string, deviceId: string, conversationId: string) =>
  `${userId}|${deviceId}|${conversationId}`;

/**
 * Decides which online devices are behind a recently active conversation and are due a
 * catch-up push. Pure: the worker does the reading and the pushing. Returns the tasks and the
 * backoff state for the next round (entries of devices no longer behind are dropped).
 */
export function planCatchUp(input: CatchUpInput): { tasks: CatchUpTask[]; state: Map<string, CatchUpState> } {
  const tasks: CatchUpTask[] = [];
  const next = new Map<string, CatchUpState>();
  for (const m of input.memberships) {
    for (const device of input.devicesOf.get(m.userId) ?? []) {
      const cursor = input.cursors.get(cursorKey(m.userId, device.deviceId, m.conversationId)) ?? 0;
      if (cursor >= m.lastSeq) continue;
      const key = `${device.connId}|${m.conversationId}`;
      const previous = input.state.get(key);
      const same = previous && previous.cursor === cursor ? previous : undefined;
      if (same && same.dueAt > input.now) {
        next.set(key, same);
        continue;
      }
      if (tasks.length >= input.limit) {
        if (previous) next.set(key, previous);
        continue;
      }
      const attempt = same ? same.attempt + 1 : 0;
      tasks.push({ device, conversationId: m.conversationId, afterSeq: cursor, upTo: m.lastSeq });
      next.set(key, {
        cursor,
        attempt,
        dueAt: input.now + repushDelay(attempt, input.initialMs, input.maxMs),
      });
    }
  }
  return { tasks, state: next };
}
