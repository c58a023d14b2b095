import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface ReservedBlock {
  conversationId: string;
  size: number;
  ceiling: number;
  /** The conversation's first block ever: no seq of it was handed out before. */
  first: boolean;
}

/** The durable ceilings of the SeqAllocator's blocks. */
@Injectable()
export class SeqBlockRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Reserves the next block of each conversation, in one statement. A first block starts at
   * the conversation's stored last_seq, so a lost seq_blocks row cannot make seqs go back.
   */
  async reserve(requests: { conversationId: string; size: number }[]): Promise<ReservedBlock[]> {
    if (requests.length === 0) return [];
    // Sorted, so that two sequencers reserving for the same conversations lock rows in one order.
    const sorted = [...requests].sort((a, b) => (a.conversationId < b.conversationId ? -1 : 1));
    // xmax = 0 only for a freshly inserted row; ceiling = size only when nothing was stored before.
    const rows: { conversation_id: string; ceiling: string; first: boolean }[] = await this.db.query(
      `WITH r AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS r(id, size))
       INSERT INTO seq_blocks AS b (conversation_id, ceiling)
       SELECT r.id, COALESCE((SELECT last_seq FROM conversations c WHERE c.id = r.id), 0) + r.size FROM r ORDER BY r.id
       ON CONFLICT (conversation_id) DO UPDATE
         SET ceiling = b.ceiling + (SELECT r.size FROM r WHERE r.id = EXCLUDED.conversation_id)
       RETURNING b.conversation_id, b.ceiling,
         (xmax = 0 AND b.ceiling = (SELECT r.size FROM r WHERE r.id = b.conversation_id)) AS first`,
      [sorted.map((r) => r.conversationId), sorted.map((r) => r.size)],
    );
    const sizes = new Map(sorted.map((r) => [r.conversationId, r.size]));
    return rows.map((row) => ({
      conversationId: row.conversation_id,
      size: sizes.get(row.conversation_id)!,
      ceiling: Number(row.ceiling),
      first: row.first,
    }));
  }
}
