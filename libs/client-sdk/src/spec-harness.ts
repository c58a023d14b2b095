// Shared by the client specs (not built into dist: see tsconfig.build.json). The test plays
// the server through FakeSockets and records every event the client emits.
import {
  ChatClient,
  MemoryOutboxStorage,
  type ChatClientOptions,
  type ClientEvents,
  type Message,
  type OutboxEntry,
} from './index';
import { FakeClock, FakeNetwork, flush, type FakeSocket } from './testing';

export const msg = (seq: number, conversationId = 'c1', extra: Partial<Message> = {}): Message => ({
  conversationId,
  seq,
  messageId: `${conversationId}-m${seq}`,
  senderId: 'u2',
  clientMsgId: `${conversationId}-x${seq}`,
  contentType: 'text',
  body: { text: `#${seq}` },
  sentAt: 1_000 + seq,
  ...extra,
});

type Recorded = { [K in keyof ClientEvents]: ClientEvents[K][] };

export function setup(overrides: Partial<ChatClientOptions> = {}) {
  const clock = new FakeClock();
  const net = new FakeNetwork();
  let ids = 0;
  const client = new ChatClient({
    baseUrl: 'ws://gw:3000/',
    deviceId: 'd1',
    token: 't0',
    socketFactory: net.factory,
    clock,
    random: () => 0.5,
    newId: () => `id${++ids}`,
    // The specs' timings; the default (150 ms) has a spec of its own.
    ackDebounceMs: 50,
    ...overrides,
  });
  const events: Recorded = {
    message: [],
    updated: [],
    hidden: [],
    ack: [],
    receipt: [],
    typing: [],
    state: [],
    outbox: [],
    failed: [],
    epochChanged: [],
    error: [],
  };
  for (const name of Object.keys(events) as (keyof ClientEvents)[])
    client.on(name, (value) => (events[name] as unknown[]).push(value));
  return { clock, net, client, events };
}
export type Harness = ReturnType<typeof setup>;

export interface SyncPage {
  messages?: Message[];
  cursors?: Record<string, number>;
  hasMore?: boolean;
  /** Left out of the frame when absent, as an older server does. */
  epoch?: string;
}

/** Answers the last sync request of the socket, as the server would. */
export function answerSync(socket: FakeSocket, page: SyncPage = {}): void {
  socket.receive({
    type: 'sync_result',
    reqId: socket.last('sync').reqId,
    messages: (page.messages ?? []).map((m) => ({ type: 'message', ...m })),
    cursors: page.cursors ?? {},
    hasMore: page.hasMore ?? false,
    ...(page.epoch !== undefined ? { epoch: page.epoch } : {}),
  });
}

export function answerHistory(socket: FakeSocket, messages: Message[], hasMore = false): void {
  const request = socket.last('history');
  socket.receive({
    type: 'history_result',
    reqId: request.reqId,
    conversationId: request.conversationId,
    messages: messages.map((m) => ({ type: 'message', ...m })),
    hasMore,
  });
}

export function push(socket: FakeSocket, m: Message): void {
  socket.receive({ type: 'message', ...m });
}

/** connect(), welcome, and one empty (or the given) sync page per element: the client is ready. */
export async function connectReady(
  h: Harness,
  pages: SyncPage[] = [{ cursors: { c1: 0 } }],
  welcome: Parameters<FakeSocket['welcome']>[0] = {},
): Promise<FakeSocket> {
  const connected = h.client.connect();
  await flush();
  const socket = h.net.last;
  socket.welcome(welcome);
  await flush();
  for (const page of pages) {
    answerSync(socket, page);
    await flush();
  }
  await connected;
  expect(h.client.state).toBe('ready');
  return socket;
}

export const sends = (socket: FakeSocket) => socket.framesOf('send');

/** A storage whose puts wait until the test lets them through. */
export class GatedStorage extends MemoryOutboxStorage {
  private gates: (() => void)[] = [];
  override async put(entry: OutboxEntry): Promise<void> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return super.put(entry);
  }
  open(): void {
    for (const gate of this.gates.splice(0)) gate();
  }
}
