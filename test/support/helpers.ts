import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Frame, TestClient } from './test-client';

/** Helpers shared by the end-to-end specs. None of them asserts timings. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Rejects with a clear message if `promise` does not settle within `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
    }),
  ]);
}

/**
 * For checks that something does NOT happen: waits `ms` (keep it ≤ 3 s) and returns the frames
 * matching `predicate` that the client recorded from index `from` (default: now) on.
 */
export async function framesDuring(
  client: TestClient,
  predicate: (f: Frame) => boolean,
  ms: number,
  from = client.frames.length,
): Promise<Frame[]> {
  await sleep(ms);
  return client.frames.slice(from).filter(predicate);
}

/** Frames recorded from index `from` on that match. */
export const framesSince = (client: TestClient, from: number, predicate: (f: Frame) => boolean): Frame[] =>
  client.frames.slice(from).filter(predicate);

/** An `ack` or `error` answering the send/recall with this clientMsgId. */
export const isAnswerTo = (f: Frame, clientMsgId: string): boolean =>
  (f.type === 'ack' && f.clientMsgId === clientMsgId) || (f.type === 'error' && f.ref === clientMsgId);

/** Sends a text message and waits for its ack; an `error` answer makes it throw. */
export async function sendAndAck(
  client: TestClient,
  conversationId: string,
  text: string,
  clientMsgId: string = randomUUID(),
): Promise<Frame> {
  const from = client.frames.length;
  client.send(conversationId, text, clientMsgId);
  const answer = await client.next((f) => isAnswerTo(f, clientMsgId), 15_000, from);
  if (answer.type !== 'ack') throw new Error(`send ${clientMsgId} answered ${JSON.stringify(answer)}`);
  return answer;
}

/** Sends `count` text messages without waiting, then waits for every answer; returns the acks in send order. */
export async function sendMany(
  client: TestClient,
  conversationId: string,
  count: number,
  prefix = 'm',
): Promise<Frame[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push(client.send(conversationId, `${prefix}-${i}`, `${prefix}-${i}-${randomUUID().slice(0, 8)}`));
  const answers = await Promise.all(ids.map((id) => client.ackOf(id, 30_000)));
  const errors = answers.filter((a) => a.type !== 'ack');
  if (errors.length > 0) throw new Error(`${errors.length} sends failed, e.g. ${JSON.stringify(errors[0])}`);
  return answers;
}

/** Makes the client answer every `message` push with a `deliver_ack` of its seq, as a correct client does. */
export function autoDeliverAck(client: TestClient): void {
  client.ws.on('message', (data) => {
    const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
    if (frame.type === 'message')
      client.sendRaw({ type: 'deliver_ack', conversationId: frame.conversationId, seq: frame.seq });
  });
}

export interface DrainedSync {
  messages: Frame[];
  pages: Frame[];
  cursors: Record<string, number>;
}

/**
 * Sends `sync` until `hasMore` is false, each time with the cursors the previous page returned
 * (the first request with `cursors` as given, or none). Fails on an `error` answer.
 */
export async function drainSync(
  client: TestClient,
  options: { cursors?: Record<string, number>; limit?: number; maxPages?: number } = {},
): Promise<DrainedSync> {
  const pages: Frame[] = [];
  const messages: Frame[] = [];
  let cursors = options.cursors;
  for (;;) {
    if (pages.length >= (options.maxPages ?? 100))
      throw new Error(`sync did not end within ${pages.length} pages`);
    const page = await client.request({
      type: 'sync',
      ...(cursors !== undefined ? { cursors } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    });
    if (page.type !== 'sync_result') throw new Error(`sync answered ${JSON.stringify(page)}`);
    pages.push(page);
    messages.push(...(page.messages as Frame[]));
    cursors = page.cursors as Record<string, number>;
    if (!page.hasMore) return { messages, pages, cursors };
  }
}

/** One `history` request; fails on an `error` answer. */
export async function history(
  client: TestClient,
  conversationId: string,
  range: { afterSeq?: number; beforeSeq?: number; limit?: number } = { afterSeq: 0, limit: 200 },
): Promise<Frame> {
  const result = await client.request({ type: 'history', conversationId, ...range });
  if (result.type !== 'history_result') throw new Error(`history answered ${JSON.stringify(result)}`);
  return result;
}

/** Every message of a conversation, through `history` pages of 200. */
export async function fullHistory(client: TestClient, conversationId: string): Promise<Frame[]> {
  const all: Frame[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await history(client, conversationId, { afterSeq, limit: 200 });
    all.push(...(page.messages as Frame[]));
    if (!page.hasMore || page.messages.length === 0) return all;
    afterSeq = page.messages[page.messages.length - 1].seq as number;
  }
}

/**
 * Opens `GET /ws` and reports the HTTP status of the answer: 101 when the WebSocket opened
 * (it is closed again at once), else the refusal's status code.
 */
export function upgradeStatus(
  baseUrl: string,
  query: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<number> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws?${new URLSearchParams(query).toString()}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Strictly increasing? */
export const isStrictlyIncreasing = (values: number[]): boolean =>
  values.every((v, i) => i === 0 || v > values[i - 1]);

/** The value counts of a list, as a map. */
export function countBy<T>(values: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
