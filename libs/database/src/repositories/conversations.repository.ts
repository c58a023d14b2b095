import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface Conversation {
  id: string;
  type: 'direct' | 'group';
  title: string | null;
  memberIds: string[];
  lastSeq: number;
  /** Its own retention in days; null follows RETENTION_DAYS (docs/protocol.md §5.7). */
  retentionDays: number | null;
}

/** What PATCH /admin/conversations/{id} may change; an absent field stays as it is. */
export interface ConversationSettings {
  title?: string | null;
  retentionDays?: number | null;
}

export interface Membership {
  conversationId: string;
  lastSeq: number;
  deliveredSeq: number;
}

export const directKey = (a: string, b: string) => [a, b].sort().join('|');

@Injectable()
export class ConversationsRepository {
  constructor(private readonly db: DataSource) {}

  async createGroup(id: string, title: string | null, memberIds: string[]): Promise<Conversation> {
    await this.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO conversations (id, type, title) VALUES ($1, 'group', $2)`, [id, title]);
      await tx.query(
        `INSERT INTO members (conversation_id, user_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
        [id, memberIds],
      );
    });
    return (await this.get(id))!;
  }

  /** The one direct conversation of a pair; `created` is false when it already existed. */
  async findOrCreateDirect(
    id: string,
    a: string,
    b: string,
    title: string | null,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const key = directKey(a, b);
    const created = await this.db.transaction(async (tx) => {
      const rows: unknown[] = await tx.query(
        `INSERT INTO conversations (id, type, title, direct_key) VALUES ($1, 'direct', $2, $3)
         ON CONFLICT (direct_key) DO NOTHING RETURNING id`,
        [id, title, key],
      );
      if (rows.length === 0) return false;
      await tx.query(`INSERT INTO members (conversation_id, user_id) SELECT $1, unnest($2::text[])`, [
        id,
        [a, b],
      ]);
      return true;
    });
    const found: { id: string }[] = await this.db.query(
      `SELECT id FROM conversations WHERE direct_key = $1`,
      [key],
    );
    return { conversation: (await this.get(found[0].id))!, created };
  }

  async get(id: string): Promise<Conversation | null> {
    const rows: {
      id: string;
      type: 'direct' | 'group';
      title: string | null;
      last_seq: string;
      retention_days: number | null;
      member_ids: string[];
    }[] = await this.db.query(
      `SELECT c.id, c.type, c.title, c.last_seq, c.retention_days,
                COALESCE(array_agg(m.user_id ORDER BY m.user_id) FILTER (WHERE m.user_id IS NOT NULL), '{}') AS member_ids
           FROM conversations c LEFT JOIN members m ON m.conversation_id = c.id
          WHERE c.id = $1 GROUP BY c.id`,
      [id],
    );
    const r = rows[0];
    return r
      ? {
          id: r.id,
          type: r.type,
          title: r.title,
          memberIds: r.member_ids,
          lastSeq: Number(r.last_seq),
          retentionDays: r.retention_days,
        }
      : null;
  }

  /** Changes the given settings; false when the conversation does not exist. */
  async updateSettings(id: string, settings: ConversationSettings): Promise<boolean> {
    const result: [unknown[], number] = await this.db.query(
      `UPDATE conversations
          SET title = CASE WHEN $2 THEN $3 ELSE title END,
              retention_days = CASE WHEN $4 THEN $5::integer ELSE retention_days END
        WHERE id = $1`,
      [
        id,
        settings.title !== undefined,
        settings.title ?? null,
        settings.retentionDays !== undefined,
        settings.retentionDays ?? null,
      ],
    );
    return result[1] > 0;
  }

  /** A page of conversation ids by id, optionally those of one member (keyset pagination). */
  async pageIds(memberId: string | undefined, after: string | undefined, limit: number): Promise<string[]> {
    const rows: { id: string }[] = memberId
      ? await this.db.query(
          `SELECT conversation_id AS id FROM members WHERE user_id = $1 AND ($2::text IS NULL OR conversation_id > $2)
           ORDER BY conversation_id LIMIT $3`,
          [memberId, after ?? null, limit],
        )
      : await this.db.query(
          `SELECT id FROM conversations WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
          [after ?? null, limit],
        );
    return rows.map((r) => r.id);
  }

  async addMembers(id: string, userIds: string[]): Promise<void> {
    await this.db.query(
      `INSERT INTO members (conversation_id, user_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
      [id, userIds],
    );
  }

  async removeMember(id: string, userId: string): Promise<boolean> {
    const result: [unknown[], number] = await this.db.query(
      `DELETE FROM members WHERE conversation_id = $1 AND user_id = $2`,
      [id, userId],
    );
    return result[1] > 0;
  }

  async memberIds(id: string): Promise<string[]> {
    const rows: { user_id: string }[] = await this.db.query(
      `SELECT user_id FROM members WHERE conversation_id = $1`,
      [id],
    );
    return rows.map((r) => r.user_id);
  }

  async exists(id: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM conversations WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  /** The user's conversations with this device's delivered cursor, ordered by conversation id (sync order). */
  async membershipsForDevice(userId: string, deviceId: string): Promise<Membership[]> {
    const rows: { conversation_id: string; last_seq: string; delivered_seq: string | null }[] =
      await this.db.query(
        `SELECT m.conversation_id, c.last_seq, d.delivered_seq
         FROM members m
         JOIN conversations c ON c.id = m.conversation_id
    LEFT JOIN device_cursors d ON d.user_id = m.user_id AND d.device_id = $2 AND d.conversation_id = m.conversation_id
        WHERE m.user_id = $1
        ORDER BY m.conversation_id`,
        [userId, deviceId],
      );
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      lastSeq: Number(r.last_seq),
      deliveredSeq: Number(r.delivered_seq ?? 0),
    }));
  }
}
