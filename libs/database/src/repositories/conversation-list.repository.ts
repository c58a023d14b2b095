import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ConversationSummary } from '@im/protocol';
import { CONTROL_TYPES_SQL, MESSAGE_COLUMNS, MessageRow, toMessageView } from '../rows';

/** A user's conversation list (the `conversations` frame). */
@Injectable()
export class ConversationListRepository {
  constructor(private readonly db: DataSource) {}

  /** The user's conversations, most recently active first, with unread counts and last message. */
  async forUser(userId: string): Promise<ConversationSummary[]> {
    const rows: (MessageRow & {
      id: string;
      type: 'direct' | 'group';
      title: string | null;
      last_seq: string;
      read_seq: string;
      unread_count: string;
      mention_count: string;
      has_last: boolean;
    })[] = await this.db.query(
      `SELECT c.id, c.type, c.title, c.last_seq, m.read_seq, n.unread_count, n.mention_count,
              (l.message_id IS NOT NULL) AS has_last,
              ${MESSAGE_COLUMNS.split(', ')
                .map((col) => `l.${col}`)
                .join(', ')}
         FROM members m
         JOIN conversations c ON c.id = m.conversation_id
         -- Others' messages after the read cursor that say something (control messages left out).
         CROSS JOIN LATERAL (
               SELECT count(*) AS unread_count, count(*) FILTER (WHERE $1 = ANY (x.mentions)) AS mention_count
                 FROM messages x
                WHERE x.conversation_id = c.id AND x.seq > m.read_seq AND x.sender_id <> $1
                  AND x.content_type NOT IN (${CONTROL_TYPES_SQL})) n
    LEFT JOIN messages l ON l.conversation_id = c.id AND l.seq = c.last_seq
        WHERE m.user_id = $1
        ORDER BY l.sent_at DESC NULLS LAST, c.created_at DESC, c.id`,
      [userId],
    );
    return rows.map((r) => ({
      conversationId: r.id,
      type: r.type,
      title: r.title,
      lastSeq: Number(r.last_seq),
      readSeq: Number(r.read_seq),
      unread: Number(r.unread_count),
      // Not `mentions`: the last message's own mentions column has that name.
      mentions: Number(r.mention_count),
      lastMessage: r.has_last ? toMessageView({ ...r, conversation_id: r.id }) : null,
    }));
  }
}
