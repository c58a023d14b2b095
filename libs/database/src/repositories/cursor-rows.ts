import type { CursorMove } from './cursors.repository';

/** A user's cursor that moved, with what receipts need to know about its conversation. */
export interface MovedCursor {
  conversationId: string;
  userId: string;
  seq: number;
  conversationType: 'direct' | 'group';
  /** The members of a direct conversation (both); empty for a group. */
  directMembers: string[];
}

export interface MovedRow {
  conversation_id: string;
  user_id: string;
  seq: string;
  type: 'direct' | 'group';
  member_ids: string[] | null;
}

export const toMoved = (r: MovedRow): MovedCursor => ({
  conversationId: r.conversation_id,
  userId: r.user_id,
  seq: Number(r.seq),
  conversationType: r.type,
  directMembers: r.member_ids ?? [],
});

/** What a moved cursor's RETURNING lists: a direct conversation's members come along for its receipts. */
export const MOVED_COLUMNS = `m.conversation_id, m.user_id, c.type,
  CASE WHEN c.type = 'direct' THEN
    (SELECT array_agg(o.user_id) FROM members o WHERE o.conversation_id = m.conversation_id)
  END AS member_ids`;

export const columns = (moves: CursorMove[]) => [
  moves.map((m) => m.userId),
  moves.map((m) => m.deviceId),
  moves.map((m) => m.conversationId),
  moves.map((m) => m.seq),
];

/** TypeORM answers UPDATE … RETURNING with [rows, rowCount] (a SELECT with just rows). */
export function updatedRows<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
