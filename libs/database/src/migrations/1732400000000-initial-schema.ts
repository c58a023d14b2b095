import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1732400000000 implements MigrationInterface {
  name = 'InitialSchema1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id text PRIMARY KEY,
        display_name text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE conversations (
        id text PRIMARY KEY,
        type text NOT NULL CHECK (type IN ('direct', 'group')),
        title text,
        -- For direct conversations: the two member ids sorted and joined, so a pair has one conversation.
        direct_key text UNIQUE,
        last_seq bigint NOT NULL DEFAULT 0,
        last_message_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE members (
        conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        user_id text NOT NULL REFERENCES users(id),
        read_seq bigint NOT NULL DEFAULT 0,
        delivered_seq bigint NOT NULL DEFAULT 0,
        joined_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conversation_id, user_id)
      )`);
    await q.query(`CREATE INDEX members_by_user ON members (user_id, conversation_id)`);
    await q.query(`
      CREATE TABLE messages (
        conversation_id text NOT NULL,
        seq bigint NOT NULL,
        message_id uuid NOT NULL UNIQUE,
        sender_id text NOT NULL,
        client_msg_id text NOT NULL,
        content_type text NOT NULL,
        body jsonb NOT NULL,
        recalled boolean NOT NULL DEFAULT false,
        sent_at timestamptz NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conversation_id, seq),
        -- The durable idempotency backstop: one message per (conversation, sender, clientMsgId).
        CONSTRAINT messages_client_msg_unique UNIQUE (conversation_id, sender_id, client_msg_id)
      )`);
    await q.query(`
      CREATE TABLE device_cursors (
        user_id text NOT NULL,
        device_id text NOT NULL,
        conversation_id text NOT NULL,
        delivered_seq bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, device_id, conversation_id)
      )`);
    await q.query(`
      CREATE TABLE seq_blocks (
        conversation_id text PRIMARY KEY,
        ceiling bigint NOT NULL
      )`);
    await q.query(`INSERT INTO users (id, display_name) VALUES ('system', 'System') ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['seq_blocks', 'device_cursors', 'messages', 'members', 'conversations', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
