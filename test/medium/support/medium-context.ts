import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { RedisClient } from '@im/realtime';
import type { DataSource } from 'typeorm';
import { AppConfig } from '@im/config';
import {
  ConversationsRepository,
  createDataSource,
  ConversationListRepository,
  CursorsRepository,
  ensureDatabase,
  MessagesRepository,
  migrate,
  ReceiptsRepository,
  UsersRepository,
} from '@im/database';
import type { SequencedMessage } from '@im/messaging';
import { createRedis } from '@im/realtime';

const POSTGRES = 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = 'redis://127.0.0.1:6379';

export interface MediumUser {
  id: string;
}

/**
 * What a medium spec works with: a database of its own (created and migrated like the services
 * do it), a Redis key prefix of its own, the repositories over them, and factories of domain
 * objects. `MediumContext.create()` in `beforeAll`, `ctx.close()` in `afterAll`, which drops
 * the database and the prefix's keys.
 */
export class MediumContext {
  readonly users: UsersRepository;
  readonly conversations: ConversationsRepository;
  readonly messages: MessagesRepository;
  readonly cursors: CursorsRepository;
  readonly receipts: ReceiptsRepository;
  readonly conversationList: ConversationListRepository;
  private readonly extraRedis: RedisClient[] = [];
  private seqs = new Map<string, number>();

  private constructor(
    readonly config: AppConfig,
    readonly db: DataSource,
    readonly redis: RedisClient,
    readonly databaseName: string,
  ) {
    this.users = new UsersRepository(db);
    this.conversations = new ConversationsRepository(db);
    this.messages = new MessagesRepository(db);
    this.cursors = new CursorsRepository(db);
    this.receipts = new ReceiptsRepository(db);
    this.conversationList = new ConversationListRepository(db);
  }

  static async create(name: string): Promise<MediumContext> {
    const run = `${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
    const databaseName = `im_medium_${run}`;
    const config = Object.assign(new AppConfig(), {
      DATABASE_URL: `${POSTGRES}/${databaseName}`,
      DATABASE_POOL_SIZE: 4,
      REDIS_URL,
      REDIS_KEY_PREFIX: `medium-${run}:`,
      KAFKA_TOPIC_PREFIX: `medium-${run}`,
    });
    await ensureDatabase(config.DATABASE_URL);
    const db = createDataSource(config);
    await db.initialize();
    await migrate(db);
    return new MediumContext(config, db, createRedis(REDIS_URL, config.REDIS_KEY_PREFIX), databaseName);
  }

  /** Another client on this context's prefix (a second "process", or a subscriber). */
  newRedis(): RedisClient {
    const redis = createRedis(REDIS_URL, this.config.REDIS_KEY_PREFIX!);
    this.extraRedis.push(redis);
    return redis;
  }

  async newUser(prefix = 'u'): Promise<MediumUser> {
    const id = `${prefix}-${randomUUID().slice(0, 8)}`;
    await this.users.create(id, id);
    return { id };
  }

  /** A direct conversation for two users, a group otherwise. */
  async newConversation(
    members: MediumUser[],
    type = members.length === 2 ? 'direct' : 'group',
  ): Promise<string> {
    const id = randomUUID();
    const ids = members.map((m) => m.id);
    if (type === 'direct')
      return (await this.conversations.findOrCreateDirect(id, ids[0], ids[1], null)).conversation.id;
    return (await this.conversations.createGroup(id, 'medium', ids)).id;
  }

  /** A message as the sequencer hands it to storage: the conversation's next seq unless given. */
  newSequenced(
    conversationId: string,
    sender: MediumUser,
    overrides: Partial<SequencedMessage> = {},
  ): SequencedMessage {
    const seq = overrides.seq ?? (this.seqs.get(conversationId) ?? 0) + 1;
    this.seqs.set(conversationId, Math.max(seq, this.seqs.get(conversationId) ?? 0));
    const now = Date.now();
    return {
      conversationId,
      senderId: sender.id,
      clientMsgId: randomUUID(),
      contentType: 'text',
      body: { text: `message ${seq}` },
      origin: { gatewayId: 'medium', connId: 'c', deviceId: 'd' },
      acceptedAt: now,
      seq,
      messageId: randomUUID(),
      sentAt: now,
      retry: false,
      ...overrides,
    };
  }

  async close(): Promise<void> {
    // KEYS takes no prefix from the client: ask with the whole pattern on a plain client.
    const plain = createRedis(REDIS_URL, '');
    const keys = await plain.keys(`${this.config.REDIS_KEY_PREFIX!}*`);
    if (keys.length > 0) await plain.del(...keys);
    await Promise.all([plain, this.redis, ...this.extraRedis].map((r) => r.quit().catch(() => undefined)));
    await this.db.destroy();
    const admin = new Client({ connectionString: `${POSTGRES}/postgres` });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
