import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MESSAGE_COLUMNS, MessageRow } from '@im/database';
import type { SequencedMessage } from '@im/messaging';

export interface StoredOutcome {
  /** The row PostgreSQL holds for the input's (conversation, sender, clientMsgId), or null. */
  row: MessageRow | null;
  /** True when this call inserted it. */
  inserted: boolean;
}

/**
 * Writes a batch of sequenced messages in one transaction. Replays are harmless: a row
 * that exists (same seq, or same clientMsgId under another seq after Redis forgot it)
 * is not written again, and the caller gets the row that was stored first.
 */
@Injectable()
export class MessageStoreRepository {
  constructor(private readonly db: DataSource) {}

  async storeBatch(messages: SequencedMessage[]): Promise<StoredOutcome[]> {
    if (messages.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const inserted: { conversation_id: string; seq: string }[] = await tx.query(
        `INSERT INTO messages (conversation_id, seq, message_id, sender_id, client_msg_id, content_type, body, sent_at,
                               accepted_at)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                              $8::timestamptz[], $9::timestamptz[])
         ON CONFLICT DO NOTHING
         RETURNING conversation_id, seq`,
        [
          messages.map((m) => m.conversationId),
          messages.map((m) => m.seq),
          messages.map((m) => m.messageId),
          messages.map((m) => m.senderId),
          messages.map((m) => m.clientMsgId),
          messages.map((m) => m.contentType),
          messages.map((m) => JSON.stringify(m.body)),
          messages.map((m) => new Date(m.sentAt)),
          messages.map((m) => new Date(m.acceptedAt)),
        ],
      );
      const insertedKeys = new Set(inserted.map((r) => `${r.conversation_id}|${r.seq}`));

      // Recalls blank their target in the same transaction as the recall message itself.
      const recalls = messages.filter(
        (m) => m.contentType === 'recall' && insertedKeys.has(`${m.conversationId}|${m.seq}`),
      );
      for (const r of recalls) {
        await tx.query(
          `UPDATE messages SET recalled = true WHERE conversation_id = $1 AND seq = $2 AND content_type <> 'recall'`,
          [r.conversationId, r.body.targetSeq],
        );
      }

      const lastSeqs = new Map<string, number>();
      for (const m of messages) {
        if (insertedKeys.has(`${m.conversationId}|${m.seq}`))
          lastSeqs.set(m.conversationId, Math.max(lastSeqs.get(m.conversationId) ?? 0, m.seq));
      }
      if (lastSeqs.size > 0) {
        await tx.query(
          `UPDATE conversations c SET last_seq = GREATEST(c.last_seq, u.seq), last_message_at = now()
             FROM unnest($1::text[], $2::bigint[]) AS u(id, seq) WHERE c.id = u.id`,
          [[...lastSeqs.keys()], [...lastSeqs.values()]],
        );
      }

      // The stored row of every input, looked up by the idempotency key.
      const rows: MessageRow[] = await tx.query(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m
          WHERE (m.conversation_id, m.sender_id, m.client_msg_id) IN (
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
        [
          messages.map((m) => m.conversationId),
          messages.map((m) => m.senderId),
          messages.map((m) => m.clientMsgId),
        ],
      );
      const byKey = new Map(rows.map((r) => [`${r.conversation_id}|${r.sender_id}|${r.client_msg_id}`, r]));
      return messages.map((m) => {
        const row = byKey.get(`${m.conversationId}|${m.senderId}|${m.clientMsgId}`) ?? null;
        return {
          row,
          inserted:
            row !== null && Number(row.seq) === m.seq && insertedKeys.has(`${m.conversationId}|${m.seq}`),
        };
      });
    });
  }
}
