import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
export type { MovedCursor } from './cursor-rows';
import { columns, MOVED_COLUMNS, MovedCursor, MovedRow, toMoved, updatedRows } from './cursor-rows';

export interface MemberCursors {
  userId: string;
  deliveredSeq: number;
  readSeq: number;
}

/** A device's (deliver_ack) or user's (read) cursor of one conversation, to move forward. */
export interface CursorMove {
  userId: string;
  deviceId: string;
  conversationId: string;
  seq: number;
}

/** Delivered and read cursors. Cursors only move forward; a lower value is ignored. */
@Injectable()
export class CursorsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * A batch of deliver_acks in one statement: each device's cursor, and each user's delivered
   * cursor (the highest of their devices), capped at the conversation's last seq so that a
   * bogus ack cannot hide future messages. Returns the users' cursors that moved. One move per
   * (user, device, conversation) at most.
   */
  async advanceDeliveredMany(moves: CursorMove[]): Promise<MovedCursor[]> {
    if (moves.length === 0) return [];
    const rows = updatedRows<MovedRow>(
      await this.db.query(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
             AS t(user_id, device_id, conversation_id, seq)
         ), capped AS (
           SELECT i.user_id, i.device_id, i.conversation_id, LEAST(i.seq, c.last_seq) AS seq
             FROM input i JOIN conversations c ON c.id = i.conversation_id
         ), devices AS (
           INSERT INTO device_cursors (user_id, device_id, conversation_id, delivered_seq)
           SELECT user_id, device_id, conversation_id, seq FROM capped
           ON CONFLICT (user_id, device_id, conversation_id)
           DO UPDATE SET delivered_seq = EXCLUDED.delivered_seq, updated_at = now()
           WHERE device_cursors.delivered_seq < EXCLUDED.delivered_seq
         ), per_user AS (
           SELECT conversation_id, user_id, max(seq) AS seq FROM capped GROUP BY conversation_id, user_id
         )
         UPDATE members m SET delivered_seq = p.seq
           FROM per_user p JOIN conversations c ON c.id = p.conversation_id
          WHERE m.conversation_id = p.conversation_id AND m.user_id = p.user_id AND m.delivered_seq < p.seq
         RETURNING m.delivered_seq AS seq, ${MOVED_COLUMNS}`,
        columns(moves),
      ),
    );
    return rows.map(toMoved);
  }

  /** A batch of reads in one statement (users' read cursors, capped at the last seq); returns those that moved. */
  async advanceReadMany(moves: Omit<CursorMove, 'deviceId'>[]): Promise<MovedCursor[]> {
    if (moves.length === 0) return [];
    const rows = updatedRows<MovedRow>(
      await this.db.query(
        `WITH input AS (
           SELECT user_id, conversation_id, max(seq) AS seq
             FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(user_id, conversation_id, seq)
            GROUP BY user_id, conversation_id
         )
         UPDATE members m SET read_seq = LEAST(i.seq, c.last_seq)
           FROM input i JOIN conversations c ON c.id = i.conversation_id
          WHERE m.conversation_id = i.conversation_id AND m.user_id = i.user_id
            AND m.read_seq < LEAST(i.seq, c.last_seq)
         RETURNING m.read_seq AS seq, ${MOVED_COLUMNS}`,
        [moves.map((m) => m.userId), moves.map((m) => m.conversationId), moves.map((m) => m.seq)],
      ),
    );
    return rows.map(toMoved);
  }

  /** Members of the conversations that had a message in the last `windowSeconds`, most recent first. */
  async activeMemberships(
    windowSeconds: number,
    limit: number,
  ): Promise<{ conversationId: string; userId: string; lastSeq: number }[]> {
    const rows: { conversation_id: string; user_id: string; last_seq: string }[] = await this.db.query(
      `SELECT m.conversation_id, m.user_id, c.last_seq
         FROM conversations c JOIN members m ON m.conversation_id = c.id
        WHERE c.last_message_at > now() - make_interval(secs => $1)
        ORDER BY c.last_message_at DESC LIMIT $2`,
      [windowSeconds, limit],
    );
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      userId: r.user_id,
      lastSeq: Number(r.last_seq),
    }));
  }

  /** Every stored delivered cursor of these users' devices. */
  async deviceCursors(
    userIds: string[],
  ): Promise<{ userId: string; deviceId: string; conversationId: string; deliveredSeq: number }[]> {
    if (userIds.length === 0) return [];
    const rows: { user_id: string; device_id: string; conversation_id: string; delivered_seq: string }[] =
      await this.db.query(
        `SELECT user_id, device_id, conversation_id, delivered_seq FROM device_cursors WHERE user_id = ANY($1)`,
        [userIds],
      );
    return rows.map((r) => ({
      userId: r.user_id,
      deviceId: r.device_id,
      conversationId: r.conversation_id,
      deliveredSeq: Number(r.delivered_seq),
    }));
  }

  async forConversation(conversationId: string): Promise<MemberCursors[]> {
    const rows: { user_id: string; delivered_seq: string; read_seq: string }[] = await this.db.query(
      `SELECT user_id, delivered_seq, read_seq FROM members WHERE conversation_id = $1 ORDER BY user_id`,
      [conversationId],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      deliveredSeq: Number(r.delivered_seq),
      readSeq: Number(r.read_seq),
    }));
  }
}
