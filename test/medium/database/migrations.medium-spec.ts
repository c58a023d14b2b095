import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AppConfig } from '@im/config';
import { createDataSource, ensureDatabase, migrate, MIGRATIONS } from '@im/database';

/** Replicas start together: migrations run under an advisory lock, once, whoever gets there first. */
describe('migrations (real PostgreSQL)', () => {
  const name = `im_medium_migrations_${randomBytes(3).toString('hex')}`;
  const config = Object.assign(new AppConfig(), {
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}`,
    DATABASE_POOL_SIZE: 2,
  });
  const sources = [createDataSource(config), createDataSource(config), createDataSource(config)];

  afterAll(async () => {
    await Promise.all(sources.map((s) => (s.isInitialized ? s.destroy() : Promise.resolve())));
    const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('creates the database once and applies each migration once when three replicas start at once', async () => {
    await Promise.all(sources.map(() => ensureDatabase(config.DATABASE_URL)));
    await Promise.all(sources.map((s) => s.initialize()));
    const applied = await Promise.all(sources.map((s) => migrate(s)));
    expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    const rows: { name: string }[] = await sources[0].query(`SELECT name FROM schema_migrations`);
    expect(rows).toHaveLength(MIGRATIONS.length);
    expect(await migrate(sources[1])).toEqual([]);
  });
});
