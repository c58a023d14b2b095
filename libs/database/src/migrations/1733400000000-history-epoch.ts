import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The generation of the stored history (docs/protocol.md §2 `epoch`): one row, made once with
 * the database, so every gateway and every restart answers the same. A restore from an older
 * backup brings its old value back, so the operator sets a new one afterwards
 * (`POST /admin/epoch`), and clients drop what they stored.
 */
export class HistoryEpoch1733400000000 implements MigrationInterface {
  name = 'HistoryEpoch1733400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS history_epoch (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        epoch text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO history_epoch (epoch) VALUES (gen_random_uuid()::text) ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS history_epoch`);
  }
}
