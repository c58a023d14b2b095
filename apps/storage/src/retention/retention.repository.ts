import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import type { RetentionCandidate } from './retention-policy';

/** The connection the sweep holds its lock on: every statement of a sweep runs there. */
export type SweepConnection = Pick<QueryRunner, 'query'>;

/** What one batch deleted. */
export interface DeletedBatch {
  messages: number;
  reactions: number;
  hidden: number;
}

/**
 * A page of conversations by id, each with the time of its lowest-seq message: one probe of
 * the (conversation_id, seq) key each. Without a deployment default only conversations with a
 * retention of their own are listed (a partial index).
 */
export const CANDIDATES = (withOwnRetentionOnly: boolean) => `
  SELECT c.id, c.retention_days,
         (SELECT m.sent_at FROM messages m WHERE m.conversation_id = c.id ORDER BY m.seq LIMIT 1) AS oldest_sent_at
    FROM conversations c
   WHERE c.id > $1 ${withOwnRetentionOnly ? 'AND c.retention_days IS NOT NULL' : ''}
   ORDER BY c.id LIMIT $2`;

/**
 * One short statement (its own transaction): the conversation's messages from its lowest seq
 * up, while they were sent before `$2`, at most `$3` of them, go with the reactions to them and
 * the marks of users who hid them. `head` walks the primary key one row at a time and stops at
 * the first message still within retention, so a statement reads only what it deletes and one
 * row more, and messages, the hot table, needs no index for it. Nothing else changes:
 * conversations.last_seq and the seq blocks stay as they are.
 */
export const DELETE_BATCH = `
  WITH RECURSIVE head AS (
      (SELECT seq, sent_at, 1 AS n FROM messages WHERE conversation_id = $1 ORDER BY seq LIMIT 1)
    UNION ALL
      (SELECT next.seq, next.sent_at, head.n + 1 FROM head
         CROSS JOIN LATERAL (SELECT seq, sent_at FROM messages
                              WHERE conversation_id = $1 AND seq > head.seq ORDER BY seq LIMIT 1) next
        WHERE head.sent_at < $2 AND head.n < $3)
  ), gone AS (
    DELETE FROM messages m USING head
     WHERE m.conversation_id = $1 AND m.seq = head.seq AND head.sent_at < $2
    RETURNING m.seq
  ), reactions AS (
    DELETE FROM message_reactions r USING gone
     WHERE r.conversation_id = $1 AND r.target_seq = gone.seq
    RETURNING 1
  ), hidden AS (
    DELETE FROM hidden_messages h USING gone
     WHERE h.conversation_id = $1 AND h.seq = gone.seq
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM gone) AS messages, (SELECT count(*) FROM reactions) AS reactions,
         (SELECT count(*) FROM hidden) AS hidden`;

/** The retention sweep's reads and deletes (storage owns the messages table's writes). */
@Injectable()
export class RetentionRepository {
  async candidates(
    db: SweepConnection,
    afterId: string,
    limit: number,
    withOwnRetentionOnly: boolean,
  ): Promise<RetentionCandidate[]> {
    const rows: { id: string; retention_days: number | null; oldest_sent_at: Date | null }[] = await db.query(
      CANDIDATES(withOwnRetentionOnly),
      [afterId, limit],
    );
    return rows.map((r) => ({
      conversationId: r.id,
      retentionDays: r.retention_days,
      oldestSentAt: r.oldest_sent_at === null ? null : r.oldest_sent_at.getTime(),
    }));
  }

  async deleteBatch(
    db: SweepConnection,
    conversationId: string,
    cutoff: Date,
    limit: number,
  ): Promise<DeletedBatch> {
    const rows: Record<keyof DeletedBatch, string>[] = await db.query(DELETE_BATCH, [
      conversationId,
      cutoff,
      limit,
    ]);
    const r = rows[0];
    return {
      messages: Number(r.messages),
      reactions: Number(r.reactions),
      hidden: Number(r.hidden),
    };
  }
}
