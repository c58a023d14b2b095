import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import type { E2eRun } from './global-setup';

/** Stops the services, then removes the run's topics and database so runs do not pile up. */
export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as { __E2E__?: E2eRun }).__E2E__;
  if (!run) return;
  await run.stack.stop();
  const admin = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${run.topicPrefix}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch (error) {
    process.stdout.write(`[e2e] topics of ${run.topicPrefix} not deleted: ${String(error)}\n`);
  } finally {
    await admin.disconnect();
  }
  const url = new URL(run.databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const pg = new Client({ connectionString: url.toString() });
  try {
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } catch (error) {
    process.stdout.write(`[e2e] database ${name} not dropped: ${String(error)}\n`);
  } finally {
    await pg.end();
  }
}
