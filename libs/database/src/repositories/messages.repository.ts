import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { MessageView } from '@im/protocol';
import { MESSAGE_COLUMNS, MessageRow, toMessageView } from '../rows';
import { notHiddenFrom } from './hidden-messages.repository';

export interface MessagePage {
  messages: MessageView[];
  hasMore: boolean;
}

/** Reads of the timeline. Every query walks the (conversation_id, seq) primary key: O(page). */
@Injectable()
export class MessagesRepository {
  constructor(private readonly db: DataSource) {}

  /** The page after `afterSeq`; with `viewerId`, what that user hid is left out. */
  after(conversationId: string, afterSeq: number, limit: number, viewerId?: string): Promise<MessagePage> {
    return this.page(conversationId, 'after', afterSeq, limit, viewerId);
  }

  /**
   * The messages after `afterSeq` up to `upTo` that were stored within [storedFrom, storedTo]:
   * what a catch-up push may send (older ones were in the device's sync, newer ones are still
   * on their normal way).
   */
  async storedBetween(
    conversationId: string,
    afterSeq: number,
    upTo: number,
    storedFrom: Date,
    storedTo: Date,
    limit: number,
  ): Promise<{ message: MessageView; storedAt: number }[]> {
    const rows: (MessageRow & { stored_at: Date })[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS}, stored_at FROM messages
        WHERE conversation_id = $1 AND seq > $2 AND seq <= $3 AND stored_at BETWEEN $4 AND $5
        ORDER BY seq ASC LIMIT $6`,
      [conversationId, afterSeq, upTo, storedFrom, storedTo, limit],
    );
    return rows.map((r) => ({ message: toMessageView(r), storedAt: r.stored_at.getTime() }));
  }

  /** The page before `beforeSeq`; with `viewerId`, what that user hid is left out. */
  before(conversationId: string, beforeSeq: number, limit: number, viewerId?: string): Promise<MessagePage> {
    return this.page(conversationId, 'before', beforeSeq, limit, viewerId);
  }

  /** One page on either side of `bound`, ascending; one row more than `limit` tells `hasMore`. */
  private async page(
    conversationId: string,
    side: 'after' | 'before',
    bound: number,
    limit: number,
    viewerId: string | undefined,
  ): Promise<MessagePage> {
    const [cmp, order] = side === 'after' ? ['>', 'ASC'] : ['<', 'DESC'];
    const params: unknown[] = [conversationId, bound, limit + 1];
    if (viewerId !== undefined) params.push(viewerId);
    const rows: MessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE conversation_id = $1 AND seq ${cmp} $2
          ${viewerId === undefined ? '' : `AND ${notHiddenFrom('$4')}`}
        ORDER BY seq ${order} LIMIT $3`,
      params,
    );
    const page = rows.slice(0, limit);
    if (side === 'before') page.reverse();
    return { messages: page.map(toMessageView), hasMore: rows.length > limit };
  }

  async bySeq(conversationId: string, seq: number): Promise<MessageView | null> {
    const rows: MessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq = $2`,
      [conversationId, seq],
    );
    return rows[0] ? toMessageView(rows[0]) : null;
  }

  async byMessageId(messageId: string): Promise<MessageView | null> {
    const rows: MessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE message_id = $1`,
      [messageId],
    );
    return rows[0] ? toMessageView(rows[0]) : null;
  }

  /** Whether this sender's message with this clientMsgId is stored (the idempotency key's unique index). */
  async isStored(conversationId: string, senderId: string, clientMsgId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM messages WHERE conversation_id = $1 AND sender_id = $2 AND client_msg_id = $3`,
      [conversationId, senderId, clientMsgId],
    );
    return rows.length > 0;
  }

  /** The raw row, including a recalled message's original sender and time (for recall checks). */
  async rawBySeq(conversationId: string, seq: number): Promise<MessageRow | null> {
    const rows: MessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq = $2`,
      [conversationId, seq],
    );
    return rows[0] ?? null;
  }
}
