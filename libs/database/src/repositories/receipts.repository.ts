import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { MemberCursors } from './cursors.repository';

/** Members' delivery and read state of a group, asked for (the `receipts` frame), never pushed. */
@Injectable()
export class ReceiptsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * The other members' state at `seq`: how many have a delivered / read cursor at or above it,
   * and, up to `listUpTo` members in all, each one's cursors. One aggregate over the
   * conversation's member rows (the primary key's prefix).
   */
  async at(
    conversationId: string,
    viewerId: string,
    seq: number,
    listUpTo: number,
  ): Promise<{ members: number; delivered: number; read: number; users?: MemberCursors[] }> {
    const [row]: {
      members: string;
      delivered: string;
      read: string;
      users: { userId: string; deliveredSeq: string; readSeq: string }[] | null;
    }[] = await this.db.query(
      `SELECT count(*) AS members,
              count(*) FILTER (WHERE delivered_seq >= $3) AS delivered,
              count(*) FILTER (WHERE read_seq >= $3) AS read,
              CASE WHEN count(*) + 1 <= $4 THEN
                json_agg(json_build_object('userId', user_id, 'deliveredSeq', delivered_seq, 'readSeq', read_seq) ORDER BY user_id)
              END AS users
         FROM members WHERE conversation_id = $1 AND user_id <> $2`,
      [conversationId, viewerId, seq, listUpTo],
    );
    return {
      members: Number(row.members),
      delivered: Number(row.delivered),
      read: Number(row.read),
      ...(row.users
        ? {
            users: row.users.map((u) => ({
              userId: u.userId,
              deliveredSeq: Number(u.deliveredSeq),
              readSeq: Number(u.readSeq),
            })),
          }
        : {}),
    };
  }
}
