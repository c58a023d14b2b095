import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * "Delete for me": messages a user hid from their own view (history and sync of every device
 * of theirs). Others, and the admin API, still see them.
 */
@Injectable()
export class HiddenMessagesRepository {
  constructor(private readonly db: DataSource) {}

  /** Idempotent: hiding a message again changes nothing. */
  async hide(userId: string, conversationId: string, seq: number): Promise<void> {
    await this.db.query(
      `INSERT INTO hidden_messages (user_id, conversation_id, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [userId, conversationId, seq],
    );
  }
}

/** The condition that leaves out what user `$param` hid, for a query over `messages` aliased `m`. */
export const notHiddenFrom = (param: string) =>
  `NOT EXISTS (SELECT 1 FROM hidden_messages h
                WHERE h.user_id = ${param} AND h.conversation_id = m.conversation_id AND h.seq = m.seq)`;
