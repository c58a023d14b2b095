import type { MovedCursor } from '@im/database';
import type { ServerFrame } from '@im/protocol';

/** A frame (a receipt, a typing notice) and whose online devices get it. */
export interface Notice {
  frame: ServerFrame;
  userIds: string[];
  /** The device the move came from, which does not get its own receipt. */
  except?: { userId: string; deviceId: string };
}

/**
 * Who is told of a cursor that moved (docs/protocol.md §4 `receipt`): in a direct conversation the
 * other member, of deliveries and reads; a read also the reader's other devices; in a group
 * only those: members' state there is asked for with `receipts`, so that a group's cost grows
 * with its members, not with their square.
 */
export function planReceipt(
  kind: 'delivered' | 'read',
  moved: MovedCursor,
  fromDeviceId: string | undefined,
): Notice | null {
  const others =
    moved.conversationType === 'direct' ? moved.directMembers.filter((u) => u !== moved.userId) : [];
  const userIds = kind === 'read' ? [...others, moved.userId] : others;
  if (userIds.length === 0) return null;
  return {
    frame: {
      type: 'receipt',
      conversationId: moved.conversationId,
      kind,
      userId: moved.userId,
      seq: moved.seq,
    },
    userIds,
    ...(fromDeviceId !== undefined ? { except: { userId: moved.userId, deviceId: fromDeviceId } } : {}),
  };
}
