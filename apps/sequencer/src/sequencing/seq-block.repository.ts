import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface ReservedBlock {
  ceiling: number;
  /** The conversation's first block ever: no seq of it was handed out before. */
  first: boolean;
}

/** The durable ceilings of the SeqAllocator's blocks. */
@Injectable()
export class SeqBlockRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Reserves the next block. Never below the conversation's stored last_seq, so a lost
   * seq_blocks row cannot make seqs go back.
   */
  async reserve(conversationId: string, size: number): Promise<ReservedBlock> {
    // xmax = 0 only for a freshly inserted row; ceiling = size only when nothing was stored before.
    const rows: { ceiling: string; first: boolean }[] = await this.db.query(
      `INSERT INTO seq_blocks AS b (conversation_id, ceiling)
       VALUES ($1, COALESCE((SELECT last_seq FROM conversations WHERE id = $1), 0) + $2)
       ON CONFLICT (conversation_id) DO UPDATE SET ceiling = b.ceiling + $2
       RETURNING ceiling, (xmax = 0 AND ceiling = $2) AS first`,
      [conversationId, size],
    );
    return { ceiling: Number(rows[0].ceiling), first: rows[0].first };
  }
}
