import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention (docs/protocol.md §5.7): a conversation's own retention in days, null for the
 * deployment's RETENTION_DAYS. The sweep walks each conversation's oldest messages through the
 * (conversation_id, seq) key, so messages, the hot table, gets no index (test/bench/README.md
 * "Retention"). It lists the conversations with an override through a partial index when no
 * default is set, and removes the hidden marks of deleted messages by conversation and seq.
 */
export class Retention1733510000000 implements MigrationInterface {
  name = 'Retention1733510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE conversations ADD COLUMN IF NOT EXISTS retention_days integer
                     CHECK (retention_days BETWEEN 1 AND 36500)`);
    await q.query(`CREATE INDEX IF NOT EXISTS conversations_with_retention ON conversations (id)
                     WHERE retention_days IS NOT NULL`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS hidden_messages_by_message ON hidden_messages (conversation_id, seq)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS hidden_messages_by_message`);
    await q.query(`DROP INDEX IF EXISTS conversations_with_retention`);
    await q.query(`ALTER TABLE conversations DROP COLUMN IF EXISTS retention_days`);
  }
}
