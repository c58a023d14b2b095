import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface MessageTrace {
  messageId: string;
  conversationId: string;
  seq: number;
  senderId: string;
  stages: { accepted: string | null; sequenced: string; stored: string };
  /** Devices whose delivered cursor covers the message; `at` is when that cursor last moved (an upper bound). */
  devices: { userId: string; deviceId: string; delivered: boolean; at: string | null }[];
  members: { userId: string; delivered: boolean; read: boolean }[];
}

/** The lifecycle of one message as PostgreSQL knows it (GET /admin/messages/{id}/trace). */
@Injectable()
export class TraceRepository {
  constructor(private readonly db: DataSource) {}

  async trace(messageId: string): Promise<MessageTrace | null> {
    const rows: {
      conversation_id: string;
      seq: string;
      sender_id: string;
      accepted_at: Date | null;
      sent_at: Date;
      stored_at: Date;
    }[] = await this.db.query(
      `SELECT conversation_id, seq, sender_id, accepted_at, sent_at, stored_at FROM messages WHERE message_id = $1`,
      [messageId],
    );
    const m = rows[0];
    if (!m) return null;
    const devices: { user_id: string; device_id: string; delivered_seq: string; updated_at: Date }[] =
      await this.db.query(
        `SELECT user_id, device_id, delivered_seq, updated_at FROM device_cursors WHERE conversation_id = $1 ORDER BY user_id, device_id`,
        [m.conversation_id],
      );
    const members: { user_id: string; delivered_seq: string; read_seq: string }[] = await this.db.query(
      `SELECT user_id, delivered_seq, read_seq FROM members WHERE conversation_id = $1 ORDER BY user_id`,
      [m.conversation_id],
    );
    const seq = Number(m.seq);
    return {
      messageId,
      conversationId: m.conversation_id,
      seq,
      senderId: m.sender_id,
      stages: {
        accepted: m.accepted_at?.toISOString() ?? null,
        sequenced: m.sent_at.toISOString(),
        stored: m.stored_at.toISOString(),
      },
      devices: devices.map((d) => {
        const delivered = Number(d.delivered_seq) >= seq;
        return {
          userId: d.user_id,
          deviceId: d.device_id,
          delivered,
          at: delivered ? d.updated_at.toISOString() : null,
        };
      }),
      members: members.map((x) => ({
        userId: x.user_id,
        delivered: Number(x.delivered_seq) >= seq,
        read: Number(x.read_seq) >= seq,
      })),
    };
  }
}
