import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { OutageAwareDataSource } from './database-outage';
import { AppConfig } from '@im/config';
import { InitialSchema1732400000000 } from './migrations/1732400000000-initial-schema';
import { ConversationActivityIndex1732600000000 } from './migrations/1732600000000-conversation-activity-index';
import { MessageAcceptedAt1732500000000 } from './migrations/1732500000000-message-accepted-at';
import { MessageActions1733300000000 } from './migrations/1733300000000-message-actions';
import { HistoryEpoch1733400000000 } from './migrations/1733400000000-history-epoch';
import { Retention1733510000000 } from './migrations/1733510000000-retention';

export const MIGRATIONS = [
  InitialSchema1732400000000,
  MessageAcceptedAt1732500000000,
  ConversationActivityIndex1732600000000,
  MessageActions1733300000000,
  HistoryEpoch1733400000000,
  Retention1733510000000,
];
// Any constant works; it only has to be the same in every replica.
const MIGRATION_LOCK_KEY = 7_346_221_001;

export function createDataSource(config: AppConfig): DataSource {
  return new OutageAwareDataSource({
    type: 'postgres',
    url: config.DATABASE_URL,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    extra: { max: config.DATABASE_POOL_SIZE, connectionTimeoutMillis: 5000 },
  });
}

/** Creates the database named in DATABASE_URL when it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
        new Logger('database').log(`created database ${name}`);
      } catch (error) {
        // Another replica created it between our check and our CREATE.
        const code = (error as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, because replicas
 * start together and must not migrate twice.
 */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
