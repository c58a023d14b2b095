/**
 * What this machine can do, measured in the sitting of a benchmark so that its figures stand
 * beside them: raw Kafka produce and consume with acks=all, raw batched PostgreSQL inserts of
 * rows like ours (in the benchmark's database, which holds the messages table), and a bare
 * `ws` echo of a send frame.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import { kafkajsBulk } from './kafka-ceilings';

export interface MachineCeilings {
  produceRate: number;
  consumeRate: number;
  insertRate: number;
  echoRate: number;
}

export async function machineCeilings(
  databaseUrl: string,
  body: object,
  count = 50_000,
): Promise<MachineCeilings> {
  return {
    ...(await kafkaCeiling(count, body)),
    ...(await postgresCeiling(databaseUrl, count, body)),
    ...(await wsEchoCeiling(count, body)),
  };
}

async function kafkaCeiling(count: number, body: object) {
  const kafka = new Kafka({
    clientId: 'bench-ceiling',
    brokers: ['127.0.0.1:9092'],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-ceiling-${Date.now()}`;
  await admin.createTopics({
    topics: [{ topic, numPartitions: 6, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const value = JSON.stringify({
    conversationId: 'c',
    senderId: 'u',
    clientMsgId: randomUUID(),
    contentType: 'text',
    body,
  });
  const { produce, consume } = await kafkajsBulk(kafka, topic, count, value);
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  return { produceRate: produce.rate, consumeRate: consume.rate };
}

async function postgresCeiling(databaseUrl: string, count: number, body: object) {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  // A logged table like ours (a TEMP table writes no WAL, which flattered the ceiling).
  await pg.query(`CREATE TABLE m (LIKE messages INCLUDING ALL)`);
  const started = performance.now();
  for (let i = 0; i < count; i += 500) {
    const n = Math.min(500, count - i);
    const seqs = Array.from({ length: n }, (_, j) => i + j + 1);
    await pg.query(
      `INSERT INTO m (conversation_id, seq, message_id, sender_id, client_msg_id, content_type, body, sent_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[])`,
      [
        seqs.map((s) => `c${s % 29}`),
        seqs,
        seqs.map(() => randomUUID()),
        seqs.map(() => 'u'),
        seqs.map(() => randomUUID()),
        seqs.map(() => 'text'),
        seqs.map(() => JSON.stringify(body)),
        seqs.map(() => new Date()),
      ],
    );
  }
  const rate = count / ((performance.now() - started) / 1000);
  await pg.query(`DROP TABLE m`);
  await pg.end();
  return { insertRate: Math.round(rate) };
}

async function wsEchoCeiling(count: number, body: object) {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((r) => ws.once('open', r));
  const frame = JSON.stringify({
    type: 'send',
    clientMsgId: randomUUID(),
    conversationId: 'c',
    contentType: 'text',
    body,
  });
  let received = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const window = 200;
    let sent = 0;
    const pump = () => {
      while (sent < count && sent - received < window) {
        ws.send(frame);
        sent++;
      }
    };
    ws.on('message', () => {
      received++;
      if (received === count) resolve();
      else pump();
    });
    pump();
  });
  const rate = count / ((performance.now() - started) / 1000);
  ws.close();
  wss.close();
  server.close();
  return { echoRate: Math.round(rate) };
}
