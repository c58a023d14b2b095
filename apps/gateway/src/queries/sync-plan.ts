import type { Membership } from '@im/database';

export interface SyncStart {
  conversationId: string;
  afterSeq: number;
  lastSeq: number;
}

/**
 * Where a sync starts in each of the user's conversations, in sync order (by conversation
 * id): the client's cursor when it sent one, else the device's stored delivered cursor.
 */
export function planSync(memberships: Membership[], cursors: Record<string, number> = {}): SyncStart[] {
  return memberships.map((m) => ({
    conversationId: m.conversationId,
    afterSeq: Object.hasOwn(cursors, m.conversationId) ? cursors[m.conversationId] : m.deliveredSeq,
    lastSeq: m.lastSeq,
  }));
}

/** Conversations named in the cursors that the user does not belong to. */
export function foreignConversations(
  memberships: Membership[],
  cursors: Record<string, number> = {},
): string[] {
  const mine = new Set(memberships.map((m) => m.conversationId));
  return Object.keys(cursors).filter((c) => !mine.has(c));
}
