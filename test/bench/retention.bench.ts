/**
 * `npm run bench:retention`: what retention costs the hot path (test/bench/README.md
 * "Retention"), against the machine's PostgreSQL, in databases of its own that it drops again.
 *
 * 1. Inserts as storage makes them (MessageStoreRepository.storeBatch, batches of 50) into three
 *    databases alike but for one index on messages: none (what the sweep needs), (sent_at)
 *    and (conversation_id, sent_at); rounds rotate between them. Time and WAL per 1,000 rows,
 *    and the extra index's size.
 * 2. EXPLAIN (ANALYZE, BUFFERS), rolled back, of one sweep statement and one page of the
 *    sweep's conversation list; and of the global delete a (sent_at) index would allow, also
 *    once one conversation keeps its messages longer than the rest.
 * 3. storeBatch latency alone, then while the sweep deletes the expired half.
 *
 *   TS_NODE_BASEURL=dist node -r tsconfig-paths/register dist/test/bench/retention.bench.js \
 *     [--preload 200000] [--rows 30000] [--rounds 3] [--conversations 200]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { AppConfig } from '@im/config';
import { createDataSource, ensureDatabase, migrate } from '@im/database';
import type { SequencedMessage } from '@im/messaging';
import { MessageStoreRepository } from '../../apps/storage/src/persistence/message-store.repository';
import { RetentionSweepUseCase } from '../../apps/storage/src/retention/retention-sweep.usecase';
import {
  CANDIDATES,
  DELETE_BATCH,
  RetentionRepository,
} from '../../apps/storage/src/retention/retention.repository';
import { SweepLock } from '../../apps/storage/src/retention/sweep-lock';
import { printTable, runBench, writeBenchResults } from './bench-output';
import { pct, round } from './process-stats';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const PRELOAD = arg('preload', 200_000);
const ROWS = arg('rows', 30_000);
const ROUNDS = arg('rounds', 3);
const CONVERSATIONS = arg('conversations', 200);
const BATCH = 50;
const RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

interface Variant {
  name: string;
  index: string | null;
  db: DataSource;
  nextSeq: number[];
}

const run = randomBytes(3).toString('hex');
const urlOf = (suffix: string) => `postgres://postgres@127.0.0.1:5432/im_bench_retention_${run}_${suffix}`;

async function database(suffix: string): Promise<DataSource> {
  const config = Object.assign(new AppConfig(), { DATABASE_URL: urlOf(suffix), DATABASE_POOL_SIZE: 4 });
  await ensureDatabase(config.DATABASE_URL);
  const db = createDataSource(config);
  await db.initialize();
  await migrate(db);
  return db;
}

/** `PRELOAD` messages over the conversations, sent from 60 to 1 day ago in seq order: half expire at 30 days. */
async function preload(db: DataSource): Promise<number[]> {
  await db.query(
    `INSERT INTO conversations (id, type) SELECT 'c-' || i, 'group' FROM generate_series(0, $1 - 1) i`,
    [CONVERSATIONS],
  );
  await db.query(
    `INSERT INTO messages (conversation_id, seq, message_id, sender_id, client_msg_id, content_type, body, sent_at, accepted_at)
     SELECT 'c-' || (i % $2), i / $2 + 1, gen_random_uuid(), 'u-' || (i % 7), 'p-' || i, 'text',
            jsonb_build_object('text', 'a preloaded message of an ordinary length, number ' || i),
            now() - interval '60 days' + (i::float8 / $1) * interval '59 days', now()
       FROM generate_series(0, $1 - 1) i`,
    [PRELOAD, CONVERSATIONS],
  );
  await db.query(`UPDATE conversations c SET last_seq = m.s FROM (SELECT conversation_id, max(seq) s FROM messages GROUP BY 1) m
                   WHERE m.conversation_id = c.id`);
  await db.query('VACUUM ANALYZE');
  const rows: { id: string; last_seq: string }[] = await db.query(`SELECT id, last_seq FROM conversations`);
  const next = Array.from({ length: CONVERSATIONS }, () => 1);
  for (const r of rows) next[Number(r.id.slice(2))] = Number(r.last_seq) + 1;
  return next;
}

function batchOf(variant: Variant): SequencedMessage[] {
  const now = Date.now();
  return Array.from({ length: BATCH }, () => {
    const c = Math.floor(Math.random() * CONVERSATIONS);
    return {
      conversationId: `c-${c}`,
      senderId: 'u-1',
      clientMsgId: randomUUID(),
      contentType: 'text',
      body: { text: 'a message of an ordinary length, sent during the benchmark' },
      origin: { gatewayId: 'bench', connId: 'c', deviceId: 'd' },
      acceptedAt: now,
      seq: variant.nextSeq[c]++,
      messageId: randomUUID(),
      sentAt: now,
      retry: false,
    };
  });
}

/** The first row of a query. */
async function one<T>(db: DataSource, sql: string, params: unknown[] = []): Promise<T> {
  const rows: T[] = await db.query(sql, params);
  return rows[0];
}
const walLsn = async (db: DataSource) =>
  (await one<{ lsn: string }>(db, `SELECT pg_current_wal_lsn()::text AS lsn`)).lsn;
const walBytes = async (db: DataSource, from: string) =>
  Number(
    (await one<{ d: string }>(db, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS d`, [from])).d,
  );

/** `rows` rows through storeBatch, one batch after the other; per-batch latencies in ms. */
async function insert(variant: Variant, rows: number, until?: () => boolean): Promise<number[]> {
  const store = new MessageStoreRepository(variant.db);
  const latencies: number[] = [];
  for (let done = 0; until ? !until() : done < rows; done += BATCH) {
    const started = performance.now();
    await store.storeBatch(batchOf(variant));
    latencies.push(performance.now() - started);
  }
  return latencies;
}

async function explain(db: DataSource, sql: string, params: unknown[]): Promise<string> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('BEGIN');
    const rows: { 'QUERY PLAN': string }[] = await runner.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await runner.query('ROLLBACK');
    await runner.release();
  }
}

/** The delete a (sent_at) index allows: the oldest rows of all conversations but those that keep longer. */
const GLOBAL_DELETE = `
  DELETE FROM messages m USING (
    SELECT conversation_id, seq FROM messages
     WHERE sent_at < $1 AND conversation_id NOT IN (SELECT id FROM conversations WHERE retention_days > $2)
     ORDER BY sent_at LIMIT 1000) d
   WHERE m.conversation_id = d.conversation_id AND m.seq = d.seq`;

async function main(): Promise<void> {
  process.stdout.write(
    `[retention] ${PRELOAD} preloaded rows in ${CONVERSATIONS} conversations, ${ROWS} measured inserts per variant\n`,
  );
  const specs = [
    { name: 'no extra index (chosen)', index: null },
    { name: 'messages (sent_at)', index: 'CREATE INDEX messages_by_sent_at ON messages (sent_at)' },
    {
      name: 'messages (conversation_id, sent_at)',
      index: 'CREATE INDEX messages_by_conversation_sent_at ON messages (conversation_id, sent_at)',
    },
  ];
  const variants: Variant[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      const db = await database(String(i));
      const nextSeq = await preload(db);
      if (spec.index) await db.query(spec.index);
      variants.push({ ...spec, db, nextSeq });
    }

    // 1. Insert cost per variant, rounds rotating the order.
    const figures = variants.map(() => ({ ms: [] as number[], wal: 0, rows: 0, latencies: [] as number[] }));
    const indexSize = async (v: Variant) =>
      v.index === null
        ? 0
        : Number(
            (
              await one<{ s: string }>(
                v.db,
                `SELECT pg_relation_size(indexrelid) AS s FROM pg_index WHERE indrelid = 'messages'::regclass
                  AND indexrelid::regclass::text LIKE 'messages_by_%'`,
              )
            ).s,
          );
    const sizesBefore = await Promise.all(variants.map(indexSize));
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (k + r) % variants.length;
        const lsn = await walLsn(variants[i].db);
        const started = performance.now();
        const latencies = await insert(variants[i], Math.ceil(ROWS / ROUNDS));
        figures[i].ms.push(performance.now() - started);
        figures[i].wal += await walBytes(variants[i].db, lsn);
        figures[i].rows += latencies.length * BATCH;
        figures[i].latencies.push(...latencies);
      }
    }
    const sizesAfter = await Promise.all(variants.map(indexSize));
    const inserts = variants.map((v, i) => {
      const sorted = [...figures[i].latencies].sort((a, b) => a - b);
      const total = figures[i].ms.reduce((a, b) => a + b, 0);
      return {
        variant: v.name,
        msPer1000Rows: round((total / figures[i].rows) * 1000, 1),
        batchP50Ms: round(pct(sorted, 50), 2),
        batchP99Ms: round(pct(sorted, 99), 2),
        walBytesPerRow: Math.round(figures[i].wal / figures[i].rows),
        extraIndexBytesPerRow: round((sizesAfter[i] - sizesBefore[i]) / figures[i].rows, 1),
        extraIndexMiB: round(sizesAfter[i] / 2 ** 20, 1),
      };
    });
    printTable(
      [
        'index on messages',
        'ms/1000 rows',
        'batch p50',
        'batch p99',
        'WAL B/row',
        'index B/row',
        'index MiB',
      ],
      inserts.map((f) => [
        f.variant,
        f.msPer1000Rows,
        f.batchP50Ms,
        f.batchP99Ms,
        f.walBytesPerRow,
        f.extraIndexBytesPerRow,
        f.extraIndexMiB,
      ]),
      38,
      13,
    );

    // 2. The sweep's statements, and the global delete with a (sent_at) index.
    const cutoff = new Date(Date.now() - RETENTION_DAYS * DAY_MS);
    const [plain, bySentAt] = [variants[0].db, variants[1].db];
    const plans: Record<string, string> = {
      sweepBatch: await explain(plain, DELETE_BATCH, ['c-7', cutoff, 1000]),
      // The steady state: a sweep an interval later finds a few newly expired messages.
      sweepBatchFewExpired: await explain(plain, DELETE_BATCH, [
        'c-8',
        new Date(Date.now() - 59.5 * DAY_MS),
        1000,
      ]),
      sweepCandidates: await explain(plain, CANDIDATES(false), ['', 500]),
      globalDelete: await explain(bySentAt, GLOBAL_DELETE, [cutoff, RETENTION_DAYS]),
    };
    // One conversation keeps ten years; the others' expired rows are gone: what a batch then reads.
    const runner = bySentAt.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('BEGIN');
      await runner.query(`UPDATE conversations SET retention_days = 3650 WHERE id = 'c-0'`);
      await runner.query(`DELETE FROM messages WHERE sent_at < $1 AND conversation_id <> 'c-0'`, [cutoff]);
      const rows: { 'QUERY PLAN': string }[] = await runner.query(
        `EXPLAIN (ANALYZE, BUFFERS) ${GLOBAL_DELETE}`,
        [cutoff, RETENTION_DAYS],
      );
      plans.globalDeleteWithOverride = rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await runner.query('ROLLBACK');
      await runner.release();
    }
    for (const [name, plan] of Object.entries(plans)) process.stdout.write(`\n--- ${name}\n${plan}\n`);

    // 3. Insert latency alone, then while the sweep deletes the expired half of the plain database.
    const alone = (await insert(variants[0], ROWS / 2)).sort((a, b) => a - b);
    const config = Object.assign(new AppConfig(), {
      RETENTION_DAYS,
      RETENTION_BATCH_SIZE: 1000,
      RETENTION_BATCH_PAUSE_MS: 50,
    });
    const sweep = new RetentionSweepUseCase(new SweepLock(plain), new RetentionRepository(), config);
    let sweeping = true;
    const sweepStarted = performance.now();
    const swept = sweep.execute().finally(() => (sweeping = false));
    const during = (await insert(variants[0], 0, () => !sweeping)).sort((a, b) => a - b);
    const report = await swept;
    const sweepSeconds = (performance.now() - sweepStarted) / 1000;
    const latency = {
      aloneP50Ms: round(pct(alone, 50), 2),
      aloneP99Ms: round(pct(alone, 99), 2),
      duringSweepP50Ms: round(pct(during, 50), 2),
      duringSweepP99Ms: round(pct(during, 99), 2),
      duringSweepMaxMs: round(during[during.length - 1] ?? NaN, 2),
      sweptRows: report.messages,
      sweepSeconds: round(sweepSeconds, 1),
      sweptRowsPerSecond: Math.round(report.messages / sweepSeconds),
    };
    process.stdout.write(`\n${JSON.stringify(latency, null, 2)}\n`);
    process.stdout.write(
      `[retention] results in ${writeBenchResults('retention', { preload: PRELOAD, rows: ROWS, inserts, plans, latency })}\n`,
    );
  } finally {
    for (const v of variants) await v.db.destroy();
    const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    for (let i = 0; i < specs.length; i++)
      await admin.query(
        `DROP DATABASE IF EXISTS "${new URL(urlOf(String(i))).pathname.slice(1)}" WITH (FORCE)`,
      );
    await admin.end();
  }
}

runBench('retention', main);
