import { Global, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '@im/config';
import { createDataSource, ensureDatabase, migrate } from './data-source';
import { ConversationsRepository } from './repositories/conversations.repository';
import { ConversationListRepository } from './repositories/conversation-list.repository';
import { CursorsRepository } from './repositories/cursors.repository';
import { ReceiptsRepository } from './repositories/receipts.repository';
import { MessagesRepository } from './repositories/messages.repository';
import { UsersRepository } from './repositories/users.repository';
import { TraceRepository } from './repositories/trace.repository';
import { HiddenMessagesRepository } from './repositories/hidden-messages.repository';
import { EpochRepository } from './repositories/epoch.repository';

@Injectable()
export class DatabaseHealth {
  constructor(private readonly db: DataSource) {}
  async check(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}

@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(private readonly db: DataSource) {}
  async onApplicationShutdown() {
    if (this.db.isInitialized) await this.db.destroy();
  }
}

const REPOSITORIES = [
  UsersRepository,
  ConversationsRepository,
  MessagesRepository,
  CursorsRepository,
  ReceiptsRepository,
  ConversationListRepository,
  HiddenMessagesRepository,
  EpochRepository,
  TraceRepository,
];

/** PostgreSQL: created if missing, migrated under an advisory lock, then shared by the repositories. */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => {
        await ensureDatabase(config.DATABASE_URL);
        const db = createDataSource(config);
        await db.initialize();
        const applied = await migrate(db);
        if (applied.length > 0) new Logger('database').log(`applied migrations: ${applied.join(', ')}`);
        return db;
      },
    },
    DatabaseHealth,
    DatabaseLifecycle,
    ...REPOSITORIES,
  ],
  exports: [DataSource, DatabaseHealth, ...REPOSITORIES],
})
export class DatabaseModule {}
