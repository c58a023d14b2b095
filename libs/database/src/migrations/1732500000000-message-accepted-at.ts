import { MigrationInterface, QueryRunner } from 'typeorm';

/** When the gateway accepted a message, for the message trace (GET /admin/messages/{id}/trace). */
export class MessageAcceptedAt1732500000000 implements MigrationInterface {
  name = 'MessageAcceptedAt1732500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ADD COLUMN IF NOT EXISTS accepted_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages DROP COLUMN IF EXISTS accepted_at`);
  }
}
