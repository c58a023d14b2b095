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
  /**
   * Where the last push stopped when one page did not reach the conversation's end: the next
   * round goes on after it (at once, same attempt) instead of pushing the same first page again.
   */
  resumeAfter?: number;
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

/** Backoff state is per connection and conversation: a new connection starts over. */
const stateKey = (connId: string, conversationId: string) => `${connId}|${conversationId}`;

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
      const key = stateKey(device.connId, m.conversationId);
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
      // A pass cut by the page goes on where it stopped; a finished one starts over at the cursor.
      const resume = same?.resumeAfter;
      const attempt = same ? (resume !== undefined ? same.attempt : same.attempt + 1) : 0;
      tasks.push({ device, conversationId: m.conversationId, afterSeq: resume ?? cursor, upTo: m.lastSeq });
      next.set(key, {
        cursor,
        attempt,
        dueAt: input.now + repushDelay(attempt, input.initialMs, input.maxMs),
      });
    }
  }
  return { tasks, state: next };
}

/**
 * Records how far a task's push reached (`coveredTo`, the last seq its page could hold). A
 * device whose cursor does not move (it does not send deliver_ack, or not yet) would otherwise
 * get the same first page on every round and never what follows: found by the chaos suite on a
 * device that never acknowledges, missing a conversation's last messages after a Redis flush.
 */
export function recordCoverage(
  state: Map<string, CatchUpState>,
  task: CatchUpTask,
  coveredTo: number,
  now: number,
): void {
  const key = stateKey(task.device.connId, task.conversationId);
  const entry = state.get(key);
  if (!entry) return;
  if (coveredTo < task.upTo) state.set(key, { ...entry, resumeAfter: coveredTo, dueAt: now });
  else state.set(key, { ...entry, resumeAfter: undefined });
}

/** The one read that serves every task of a conversation: from the lowest cursor and earliest connection. */
export function readRange(tasks: CatchUpTask[], syncMarginMs: number) {
  return {
    afterSeq: Math.min(...tasks.map((t) => t.afterSeq)),
    upTo: Math.max(...tasks.map((t) => t.upTo)),
    storedFrom: Math.min(...tasks.map((t) => t.device.connectedAt)) - syncMarginMs,
  };
}

/**
 * Splits a page read with `readRange` among the tasks: each takes the rows in its own seq
 * range, stored after its device connected (less the sync margin). A page cut at its limit
 * ends at its last seq; a task whose cursor is at or above it got nothing from this page and
 * is returned in `rest` for a read of its own. The task with the lowest cursor is always
 * served, so reading again for `rest` ends.
 */
export function takeFromPage<R extends { message: { seq: number }; storedAt: number }>(
  tasks: CatchUpTask[],
  page: R[],
  pageFull: boolean,
  syncMarginMs: number,
): { pushes: { task: CatchUpTask; rows: R[]; coveredTo: number }[]; rest: CatchUpTask[] } {
  const lastSeq = page.length > 0 ? page[page.length - 1].message.seq : Number.POSITIVE_INFINITY;
  const pushes: { task: CatchUpTask; rows: R[]; coveredTo: number }[] = [];
  const rest: CatchUpTask[] = [];
  for (const task of tasks) {
    if (pageFull && task.afterSeq >= lastSeq) {
      rest.push(task);
      continue;
    }
    const from = task.device.connectedAt - syncMarginMs;
    const rows = page.filter(
      (r) => r.message.seq > task.afterSeq && r.message.seq <= task.upTo && r.storedAt >= from,
    );
    // A full page ends at its last seq: the task's range beyond it was not read this time.
    pushes.push({ task, rows, coveredTo: pageFull ? Math.min(lastSeq, task.upTo) : task.upTo });
  }
  return { pushes, rest };
}
