import { MigrationInterface, QueryRunner } from 'typeorm';

/** Delivery's catch-up looks at recently active conversations every few seconds. */
export class ConversationActivityIndex1732600000000 implements MigrationInterface {
  name = 'ConversationActivityIndex1732600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS conversations_by_activity ON conversations (last_message_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS conversations_by_activity`);
  }
}
