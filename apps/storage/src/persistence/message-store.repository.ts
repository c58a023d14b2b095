import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MESSAGE_COLUMNS, MessageRow, namedStatement } from '@im/database';
import type { SequencedMessage } from '@im/messaging';
import { isControlContentType } from '@im/protocol';
import { applyControlEffects, type Queryable } from './control-effects';

export interface StoredOutcome {
  /** The row PostgreSQL holds for the input's (conversation, sender, clientMsgId), or null. */
  row: MessageRow | null;
  /** True when this call inserted it. */
  inserted: boolean;
}

/**
 * Inserts the new rows and raises their conversations' last_seq in one round trip. An
 * inserted row is never recalled, edited or reacted to, so those columns are not returned. `last_message_at` (indexed,
 * for the catch-up's window of active conversations) moves only when it is 5 s old: a changed
 * indexed column makes every update a non-HOT one, a new tuple plus an index entry, which was
 * every update of every message before.
 */
const STORE_MESSAGES = `WITH ins AS (
    INSERT INTO messages (conversation_id, seq, message_id, sender_id, client_msg_id, content_type, body, sent_at,
                          accepted_at, reply_to, mentions)
    SELECT m.c, m.s, m.id, m.snd, m.cm, m.ct, m.b, m.sa, m.aa, m.rt, CASE WHEN m.mt IS NULL THEN NULL
                                                                       ELSE ARRAY(SELECT jsonb_array_elements_text(m.mt)) END
      FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                  $8::timestamptz[], $9::timestamptz[], $10::bigint[], $11::jsonb[]) AS m(c, s, id, snd, cm, ct, b, sa, aa, rt, mt)
    ON CONFLICT DO NOTHING
    RETURNING conversation_id, seq, message_id, sender_id, client_msg_id, content_type, body, sent_at, reply_to, mentions
  ), raised AS (
    UPDATE conversations c
       SET last_seq = GREATEST(c.last_seq, t.seq),
           last_message_at = CASE WHEN c.last_message_at > now() - interval '5 seconds'
                                  THEN c.last_message_at ELSE now() END
      FROM (SELECT conversation_id, max(seq) AS seq FROM ins GROUP BY conversation_id) t
     WHERE c.id = t.conversation_id
  )
  SELECT * FROM ins`;

/** A row just inserted: nothing has edited, reacted to or recalled it yet. */
type FreshRow = Omit<MessageRow, 'recalled' | 'edited_at' | 'reactions'>;

/**
 * Writes a batch of sequenced messages atomically (one statement, or a transaction with recalls). Replays are harmless: a row
 * that exists (same seq, or same clientMsgId under another seq after Redis forgot it)
 * is not written again, and the caller gets the row that was stored first.
 */
@Injectable()
export class MessageStoreRepository {
  constructor(private readonly db: DataSource) {}

  async storeBatch(messages: SequencedMessage[]): Promise<StoredOutcome[]> {
    if (messages.length === 0) return [];
    // One statement is atomic by itself; a control message also changes its target, so it needs a transaction.
    const hasControl = messages.some((m) => isControlContentType(m.contentType));
    return hasControl ? this.db.transaction((tx) => this.write(tx, messages)) : this.write(this.db, messages);
  }

  private async write(db: Queryable, messages: SequencedMessage[]): Promise<StoredOutcome[]> {
    // Insert the new rows and raise the conversations' last_seq in one round trip.
    const inserted: FreshRow[] = await db.query(namedStatement('store-messages', STORE_MESSAGES), [
      messages.map((m) => m.conversationId),
      messages.map((m) => m.seq),
      messages.map((m) => m.messageId),
      messages.map((m) => m.senderId),
      messages.map((m) => m.clientMsgId),
      messages.map((m) => m.contentType),
      messages.map((m) => JSON.stringify(m.body)),
      messages.map((m) => new Date(m.sentAt)),
      messages.map((m) => new Date(m.acceptedAt)),
      messages.map((m) => m.replyTo ?? null),
      // unnest cannot take an array of arrays of varying length: each list travels as JSON.
      messages.map((m) => (m.mentions ? JSON.stringify(m.mentions) : null)),
    ]);
    const key = (conversationId: string, senderId: string, clientMsgId: string) =>
      `${conversationId}|${senderId}|${clientMsgId}`;
    const insertedByKey = new Map(
      inserted.map((r) => [key(r.conversation_id, r.sender_id, r.client_msg_id), r]),
    );

    // Recalls, edits and reactions change their target in the same transaction as themselves.
    await applyControlEffects(db, inserted);

    // Replays and resends: the row stored first, looked up by the idempotency key.
    const others = messages.filter(
      (m) => !insertedByKey.has(key(m.conversationId, m.senderId, m.clientMsgId)),
    );
    const earlier: MessageRow[] =
      others.length === 0
        ? []
        : await db.query(
            `SELECT ${MESSAGE_COLUMNS} FROM messages m
              WHERE (m.conversation_id, m.sender_id, m.client_msg_id) IN (
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
            [
              others.map((m) => m.conversationId),
              others.map((m) => m.senderId),
              others.map((m) => m.clientMsgId),
            ],
          );
    const earlierByKey = new Map(
      earlier.map((r) => [key(r.conversation_id, r.sender_id, r.client_msg_id), r]),
    );
    // A message twice in one batch is inserted once: only its first copy counts as inserted.
    const answered = new Set<string>();
    return messages.map((m) => {
      const k = key(m.conversationId, m.senderId, m.clientMsgId);
      const fresh = insertedByKey.get(k);
      const first = !answered.has(k);
      answered.add(k);
      if (fresh)
        return {
          row: { ...fresh, recalled: false, edited_at: null, reactions: null },
          inserted: first && Number(fresh.seq) === m.seq,
        };
      return { row: earlierByKey.get(k) ?? null, inserted: false };
    });
  }
}
