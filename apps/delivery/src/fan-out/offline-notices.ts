import type { OfflineNotice, PersistedMessage } from '@im/messaging';
import { previewOf } from '@im/webhooks';

/**
 * The message.offline notices of a fan-out: one per message that has members, other than its
 * sender, with no online device at all. The sender is left out: they wrote it.
 */
export function offlineNotices(
  messages: readonly PersistedMessage[],
  membersOf: ReadonlyMap<string, readonly string[]>,
  isOnline: (userId: string) => boolean,
): OfflineNotice[] {
  const notices: OfflineNotice[] = [];
  for (const m of messages) {
    const recipients = (membersOf.get(m.conversationId) ?? []).filter(
      (userId) => userId !== m.senderId && !isOnline(userId),
    );
    if (recipients.length === 0) continue;
    notices.push({
      messageId: m.messageId,
      conversationId: m.conversationId,
      seq: m.seq,
      senderId: m.senderId,
      contentType: m.contentType,
      preview: previewOf(m.contentType, m.body),
      recipients,
      storedAt: m.storedAt,
    });
  }
  return notices;
}
