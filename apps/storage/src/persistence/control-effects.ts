import type { DataSource } from 'typeorm';
import { CONTROL_TYPES_SQL } from '@im/database';
import { type ControlContentType, isControlContentType } from '@im/protocol';

/** The DataSource or a transaction's EntityManager: both run raw queries. */
export type Queryable = Pick<DataSource, 'query'>;

/** A freshly inserted row, as far as its effect on a target needs it. */
export interface StoredControl {
  conversation_id: string;
  seq: string;
  sender_id: string;
  content_type: string;
  body: Record<string, unknown>;
  sent_at: Date;
}

/** A target a control message may act on: a message that says something, not recalled. */
const ACTIONABLE = `NOT recalled AND content_type NOT IN (${CONTROL_TYPES_SQL})`;

const RECALL = `UPDATE messages SET recalled = true, reactions = NULL
                 WHERE conversation_id = $1 AND seq = $2 AND content_type NOT IN (${CONTROL_TYPES_SQL})`;
const CLEAR_REACTIONS = `DELETE FROM message_reactions WHERE conversation_id = $1 AND target_seq = $2`;
/** Only the sender's own message changes, whatever reached the stream. */
const EDIT = `UPDATE messages SET body = $3, edited_at = $4
               WHERE conversation_id = $1 AND seq = $2 AND sender_id = $5 AND ${ACTIONABLE}`;
const ADD_REACTION = `INSERT INTO message_reactions (conversation_id, target_seq, emoji, user_id, reaction_seq)
  SELECT $1, $2, $3, $4, $5
   WHERE EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1 AND seq = $2 AND ${ACTIONABLE})
  ON CONFLICT DO NOTHING`;
const REMOVE_REACTION = `DELETE FROM message_reactions
  WHERE conversation_id = $1 AND target_seq = $2 AND emoji = $3 AND user_id = $4`;
/** The summary history and sync read: per emoji, ordered by its oldest remaining reaction, the first 20 users. */
const SUMMARIZE_REACTIONS = `UPDATE messages SET reactions = (
    SELECT jsonb_agg(jsonb_build_object('emoji', emoji, 'count', n, 'userIds', to_jsonb(users)) ORDER BY first_seq)
      FROM (SELECT emoji, count(*) AS n, min(reaction_seq) AS first_seq,
                   (array_agg(user_id ORDER BY reaction_seq))[1:20] AS users
              FROM message_reactions WHERE conversation_id = $1 AND target_seq = $2
             GROUP BY emoji) r)
  WHERE conversation_id = $1 AND seq = $2 AND NOT recalled`;

/**
 * Applies what freshly stored recalls, edits and reactions do to their targets, in seq order,
 * in the caller's transaction, so that no reader sees a control message without its effect.
 * Only fresh rows come here: a replayed control message was applied when it was first stored.
 * A control message whose target was recalled in the meantime changes nothing.
 */
export async function applyControlEffects(db: Queryable, inserted: StoredControl[]): Promise<void> {
  const controls = inserted
    .filter((r) => isControlContentType(r.content_type))
    .sort((a, b) => a.conversation_id.localeCompare(b.conversation_id) || Number(a.seq) - Number(b.seq));
  const reacted = new Map<string, [string, number]>();
  for (const r of controls) {
    const targetSeq = Number(r.body.targetSeq);
    await EFFECTS[r.content_type as ControlContentType](db, r, targetSeq);
    if (r.content_type === 'reaction')
      reacted.set(`${r.conversation_id}|${targetSeq}`, [r.conversation_id, targetSeq]);
  }
  for (const [conversationId, targetSeq] of reacted.values())
    await db.query(SUMMARIZE_REACTIONS, [conversationId, targetSeq]);
}

const EFFECTS: Record<
  ControlContentType,
  (db: Queryable, r: StoredControl, targetSeq: number) => Promise<unknown>
> = {
  recall: async (db, r, targetSeq) => {
    await db.query(RECALL, [r.conversation_id, targetSeq]);
    await db.query(CLEAR_REACTIONS, [r.conversation_id, targetSeq]);
  },
  edit: (db, r, targetSeq) =>
    db.query(EDIT, [r.conversation_id, targetSeq, JSON.stringify(r.body.body), r.sent_at, r.sender_id]),
  reaction: (db, r, targetSeq) =>
    r.body.op === 'remove'
      ? db.query(REMOVE_REACTION, [r.conversation_id, targetSeq, r.body.emoji, r.sender_id])
      : db.query(ADD_REACTION, [r.conversation_id, targetSeq, r.body.emoji, r.sender_id, r.seq]),
};
