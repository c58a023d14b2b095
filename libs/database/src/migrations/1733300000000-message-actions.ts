import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Edits, reactions, replies, mentions and "delete for me". A target's current state (newest
 * body, edit time, reaction summary) lives on its own row, written in the same transaction as
 * the edit or reaction message, so history and sync read it without a join. The reactions
 * table is the truth behind the summary: one row per (target, emoji, user). Nullable columns
 * without a default are added without rewriting the table.
 */
export class MessageActions1733300000000 implements MigrationInterface {
  name = 'MessageActions1733300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE messages
        ADD COLUMN IF NOT EXISTS reply_to bigint,
        ADD COLUMN IF NOT EXISTS mentions text[],
        ADD COLUMN IF NOT EXISTS edited_at timestamptz,
        ADD COLUMN IF NOT EXISTS reactions jsonb`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS message_reactions (
        conversation_id text NOT NULL,
        target_seq bigint NOT NULL,
        emoji text NOT NULL,
        user_id text NOT NULL,
        reaction_seq bigint NOT NULL,
        PRIMARY KEY (conversation_id, target_seq, emoji, user_id)
      )`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS hidden_messages (
        user_id text NOT NULL,
        conversation_id text NOT NULL,
        seq bigint NOT NULL,
        hidden_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, conversation_id, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS hidden_messages`);
    await q.query(`DROP TABLE IF EXISTS message_reactions`);
    await q.query(
      `ALTER TABLE messages DROP COLUMN IF EXISTS reply_to, DROP COLUMN IF EXISTS mentions,
         DROP COLUMN IF EXISTS edited_at, DROP COLUMN IF EXISTS reactions`,
    );
  }
}
