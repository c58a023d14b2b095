import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface MemberCursors {
  userId: string;
  deliveredSeq: number;
  readSeq: number;
}

/** Delivered and read cursors. Cursors only move forward; a lower value is ignored. */
@Injectable()
export class CursorsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Records that a device stored everything up to `seq`, and returns the user's new
   * delivered cursor if it moved (the highest of the user's devices), else null.
   */
  async advanceDelivered(
    userId: string,
    deviceId: string,
    conversationId: string,
    seq: number,
  ): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      // A cursor never passes the conversation's last seq: a bogus ack must not hide future messages.
      const last: { last_seq: string }[] = await tx.query(
        `SELECT last_seq FROM conversations WHERE id = $1`,
        [conversationId],
      );
      seq = Math.min(seq, Number(last[0]?.last_seq ?? 0));
      await tx.query(
        `INSERT INTO device_cursors (user_id, device_id, conversation_id, delivered_seq) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, device_id, conversation_id)
         DO UPDATE SET delivered_seq = EXCLUDED.delivered_seq, updated_at = now()
         WHERE device_cursors.delivered_seq < EXCLUDED.delivered_seq`,
        [userId, deviceId, conversationId, seq],
      );
      const moved = updatedRows<{ delivered_seq: string }>(
        await tx.query(
          `UPDATE members SET delivered_seq = $3 WHERE conversation_id = $1 AND user_id = $2 AND delivered_seq < $3
         RETURNING delivered_seq`,
          [conversationId, userId, seq],
        ),
      );
      return moved[0] ? Number(moved[0].delivered_seq) : null;
    });
  }

  /** Moves the user's read cursor forward; returns the new value if it moved, else null. */
  async advanceRead(userId: string, conversationId: string, seq: number): Promise<number | null> {
    const moved = updatedRows<{ read_seq: string }>(
      await this.db.query(
        `UPDATE members m SET read_seq = LEAST($3::bigint, c.last_seq)
         FROM conversations c
        WHERE c.id = m.conversation_id AND m.conversation_id = $1 AND m.user_id = $2 AND m.read_seq < LEAST($3::bigint, c.last_seq)
       RETURNING m.read_seq`,
        [conversationId, userId, seq],
      ),
    );
    return moved[0] ? Number(moved[0].read_seq) : null;
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

/** TypeORM answers UPDATE … RETURNING with [rows, rowCount] (a SELECT with just rows). */
function updatedRows<T>(result: unknown): T[] {
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
