import { DEFAULT_RECONNECT } from './backoff';
import { systemClock, type Clock } from './clock';
import { Connection } from './connection';
import { Emitter } from './emitter';
import { asClientError, ClientError } from './errors';
import { MemoryMessageStore, type MessageStore } from './message-store';
import { Outbox } from './outbox';
import { ownMessage } from './own-message';
import {
  MemoryOutboxStorage,
  type OutboxEntry,
  type OutboxFrame,
  type OutboxStorage,
} from './outbox-storage';
import {
  epochOf,
  toMessage,
  type Ack,
  type ClientFrame,
  type ConversationSummary,
  type Message,
  type Receipt,
  type Receipts,
  type SendContentType,
  type SendFrame,
  type ServerFrame,
  type ServerFrameMap,
  type Typing,
  type Welcome,
} from './protocol';
import { globalWebSocket, type SocketFactory } from './socket';
import { Timeline, type Coverage } from './timeline';

/**
 * offline: no connection (waiting to reconnect, stopped, or closed) · connecting: an attempt
 * is under way · syncing: welcomed, catching up with `sync` · ready: caught up, live.
 */
export type ConnectionState = 'connecting' | 'syncing' | 'ready' | 'offline';

export interface ClientEvents {
  /**
   * A message stored for the first time, from a push, sync, history or the ack of an own send
   * (once per conversation and seq), as it stands: control messages already held are applied.
   */
  message: Message;
  /**
   * A stored message changed: an edit, reaction or recall was applied to it, or a newer copy of
   * it came from the server. The payload is the whole message as it now stands.
   */
  updated: Message;
  /** A message was hidden on this device (hide() was answered); the store no longer has it. */
  hidden: { conversationId: string; seq: number };
  /** An own send, edit, reaction or recall is durable on the server. */
  ack: Ack;
  receipt: Receipt;
  typing: Typing;
  state: ConnectionState;
  /** The outbox changed: its entries, oldest first. */
  outbox: OutboxEntry[];
  /** An outbox entry gave up (timeout or a permanent error); it stays for retry() or discard(). */
  failed: { entry: OutboxEntry; error: ClientError };
  /**
   * The server's history is of another epoch than the stored messages (it was reset or
   * restored from a backup), so the seqs held may name other messages now: every stored
   * message and cursor was dropped, and the client syncs again from each conversation's start,
   * announcing what it stores with `message` as if for the first time. Sends stay in the
   * outbox; pending edits, reactions and recalls fail with 'epoch_changed'.
   */
  epochChanged: EpochChange;
  error: ClientError;
}

export interface EpochChange {
  /** The epoch the dropped messages came with. */
  previous: string;
  /** The server's epoch now. */
  epoch: string;
}

export interface ChatClientOptions {
  /** The gateway, e.g. 'wss://chat.example.com' or 'ws://127.0.0.1:3000'; `/ws` is appended. */
  baseUrl: string;
  /** Stable per installation: 1–64 of [A-Za-z0-9_-]. */
  deviceId: string;
  /** A fixed JWT; without a tokenProvider a 4401 close stops the client. */
  token?: string;
  /** Called before every connection attempt (so also after a 4401); may refresh the token. */
  tokenProvider?: () => string | Promise<string>;
  /** Default: the global WebSocket (browsers, Node ≥ 22). On Node 20: `(url) => new WebSocket(url)` from `ws`. */
  socketFactory?: SocketFactory;
  clock?: Clock;
  /** [0, 1) random source of the reconnect jitter. */
  random?: () => number;
  /** Default: in memory (lost with the process). Use FileOutboxStorage or IndexedDbOutboxStorage. */
  outboxStorage?: OutboxStorage;
  /** Default: in memory. */
  messageStore?: MessageStore;
  /** An unacked message fails after this long (default 5 minutes). */
  failAfterMs?: number;
  /** sync, history and conversations fail with 'timeout' after this long (default 15 s). */
  requestTimeoutMs?: number;
  /** A connection without `welcome` by then is dropped and retried (default 15 s). */
  connectTimeoutMs?: number;
  /** Reconnect backoff (default 500 ms doubling to 30 s, full jitter). */
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  /**
   * deliver_ack is sent this long after the cursor moved (default 150 ms), so that one
   * cumulative ack covers a burst (docs/protocol.md §7 allows up to 200 ms).
   */
  ackDebounceMs?: number;
  /** Page size of sync (1–200, default 200) and of gap-filling history requests (default 200). */
  syncPageSize?: number;
  gapPageSize?: number;
  /** The server's MAX_FRAME_BYTES (default 65536); larger sends are refused locally. */
  maxFrameBytes?: number;
  /** Generator of clientMsgId and reqId values; default crypto.randomUUID. */
  newId?: () => string;
}

/** What a send may carry beside its body (docs/protocol.md §3.2, §3.15). */
export interface SendOptions {
  /** The seq of a message of the same conversation that this one answers. */
  replyTo?: number;
  /** User ids of members this message mentions (up to 50; repeats are dropped, an empty list is left out). */
  mentions?: string[];
}

export type ReactionOp = 'add' | 'remove';

export interface SendHandle {
  clientMsgId: string;
  /** Resolves with the ack; rejects with a ClientError when the message fails or the client closes. */
  acked: Promise<Ack>;
}

export type HistoryQuery = { afterSeq: number; limit?: number } | { beforeSeq: number; limit?: number };

export interface HistoryResult {
  messages: Message[];
  hasMore: boolean;
}

/** Retries of a failed sync on the same connection: up to 0.5, 1, 2, 4, 5, 5 s (jittered down to half), then reconnect. */
const SYNC_RETRY = { attempts: 6, baseMs: 500, capMs: 5_000 };

/**
 * The chat client. Sends go through a durable outbox and are resent until acked; received
 * messages are stored in order without duplicates, acknowledged, and gaps are filled.
 */
export class ChatClient extends Emitter<ClientEvents> {
  private readonly connection: Connection;
  private readonly outboxQueue: Outbox;
  private readonly timelineStore: Timeline;
  private readonly newId: () => string;
  private readonly syncPageSize: number;
  private currentState: ConnectionState = 'offline';
  private initialized?: Promise<void>;
  private me?: string;
  /** Incremented on every welcome and loss, so that a stale sync loop stops. */
  private session = 0;
  private readonly clock: Clock;
  private readonly random: () => number;
  private closed = false;
  /**
   * Whether the outbox, deliver_acks and reads may use the connection: only once its welcome's
   * epoch was checked, since after a new epoch what they would say names earlier seqs.
   */
  private writable = false;
  /** read cursors given while offline, sent on the next welcome. */
  private readonly unsentReads = new Map<string, number>();

  constructor(options: ChatClientOptions) {
    super();
    const token = options.tokenProvider ?? options.token;
    if (token === undefined) throw new TypeError('ChatClient needs a token or a tokenProvider');
    const socketFactory = options.socketFactory ?? defaultSocketFactory();
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.random = options.random ?? Math.random;
    const onError = (error: ClientError) => this.emit('error', error);
    this.newId = options.newId ?? randomId;
    this.syncPageSize = options.syncPageSize ?? 200;

    this.connection = new Connection(
      {
        baseUrl: options.baseUrl,
        deviceId: options.deviceId,
        token: typeof token === 'string' ? () => token : token,
        canRefreshToken: options.tokenProvider !== undefined,
        socketFactory,
        clock,
        random: options.random ?? Math.random,
        backoff: {
          baseMs: options.reconnectBaseMs ?? DEFAULT_RECONNECT.baseMs,
          capMs: options.reconnectCapMs ?? DEFAULT_RECONNECT.capMs,
        },
        connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
        requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      },
      {
        onConnecting: () => this.setState('connecting'),
        onWelcome: (welcome) => this.onWelcome(welcome),
        onFrame: (frame) => this.onFrame(frame),
        onDown: () => this.onDown(),
        onError,
      },
    );
    const write = (frame: ClientFrame) => this.writable && this.connection.write(frame);
    this.outboxQueue = new Outbox({
      storage: options.outboxStorage ?? new MemoryOutboxStorage(),
      clock,
      failAfterMs: options.failAfterMs ?? 5 * 60_000,
      maxFrameBytes: options.maxFrameBytes ?? 65_536,
      isOnline: () => this.writable && this.connection.isOpen,
      write,
      // A snapshot copies every entry: build it only for a listener.
      onChange: () => {
        if (this.hasListeners('outbox')) this.emit('outbox', this.outboxQueue.entries());
      },
      onAcked: (entry, ack) => this.onAcked(entry, ack),
      onFailed: (entry, error) => this.emit('failed', { entry, error }),
      onError,
    });
    this.timelineStore = new Timeline({
      store: options.messageStore ?? new MemoryMessageStore(),
      clock,
      ackDebounceMs: options.ackDebounceMs ?? 150,
      gapPageSize: options.gapPageSize ?? 200,
      write,
      history: (conversationId, afterSeq, limit) => this.requestHistory(conversationId, { afterSeq, limit }),
      onMessage: (message) => this.emit('message', message),
      onUpdated: (message) => this.emit('updated', message),
      onError,
    });
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The user id the server announced in its last welcome. */
  get userId(): string | undefined {
    return this.me;
  }

  /**
   * Starts connecting (and reconnecting) and resolves once the stored outbox and cursors
   * are loaded. Also restarts a client that stopped after 4409, 4403 or an unrecoverable 4401.
   */
  async connect(): Promise<void> {
    this.assertOpen();
    const init = this.init();
    this.connection.start();
    await init;
  }

  /** Closes the connection for good. The outbox storage keeps unacked messages for the next run. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session++;
    this.writable = false;
    const error = new ClientError('closed', 'the client was closed');
    this.connection.stop(error);
    this.outboxQueue.dispose();
    this.timelineStore.dispose();
    this.setState('offline');
  }

  /** Queues a message: stored durably first, then sent and resent until acked. */
  send(
    conversationId: string,
    body: Record<string, unknown>,
    contentType: SendContentType = 'text',
    options: SendOptions = {},
  ): SendHandle {
    const frame: SendFrame = { type: 'send', clientMsgId: this.newId(), conversationId, contentType, body };
    if (options.replyTo !== undefined) frame.replyTo = options.replyTo;
    // The server refuses an empty list and repeats; neither means anything else than this.
    const mentions = [...new Set(options.mentions ?? [])];
    if (mentions.length > 0) frame.mentions = mentions;
    return this.enqueue(frame);
  }

  /**
   * Replaces the body of an own message. The edit is itself a message (contentType 'edit') and
   * goes through the outbox like a send; the target shows the new body once the edit is acked.
   */
  edit(conversationId: string, targetSeq: number, body: Record<string, unknown>): SendHandle {
    return this.enqueue({ type: 'edit', clientMsgId: this.newId(), conversationId, targetSeq, body });
  }

  /** Adds (or removes) this user's emoji reaction to a message; a message of its own, through the outbox. */
  react(conversationId: string, targetSeq: number, emoji: string, op: ReactionOp = 'add'): SendHandle {
    return this.enqueue({ type: 'react', clientMsgId: this.newId(), conversationId, targetSeq, emoji, op });
  }

  /** Recalls an own message; the recall is itself a message and goes through the outbox. */
  recall(conversationId: string, targetSeq: number): SendHandle {
    const clientMsgId = this.newId();
    return this.enqueue({ type: 'recall', clientMsgId, conversationId, targetSeq });
  }

  /**
   * Hides a message for this user only ("delete for me"). Resolves once the server answered
   * and the message is gone from this device's store (a 'hidden' event follows); a request like
   * conversations(), so it is not kept across restarts: call it again if it failed.
   */
  async hide(conversationId: string, seq: number): Promise<void> {
    const answer = await this.connection.request(
      { type: 'hide', reqId: this.newId(), conversationId, seq },
      'hide_result',
    );
    await this.init();
    try {
      await this.timelineStore.hide(answer.conversationId, answer.seq);
    } catch (error) {
      throw asClientError(error, 'storage', 'the message was hidden on the server but not removed here');
    }
    this.emit('hidden', { conversationId: answer.conversationId, seq: answer.seq });
  }

  /** Moves the read cursor (monotonic on the server); kept and sent on reconnect when offline. */
  read(conversationId: string, seq: number): void {
    if (this.writable && this.connection.write({ type: 'read', conversationId, seq })) return;
    this.unsentReads.set(conversationId, Math.max(seq, this.unsentReads.get(conversationId) ?? 0));
  }

  /** A typing signal; returns false (and drops it) when not connected: it is only worth sending live. */
  typing(conversationId: string): boolean {
    return this.connection.write({ type: 'typing', conversationId });
  }

  /** The user's conversations, most recently active first, with unread and mention counts. */
  async conversations(): Promise<ConversationSummary[]> {
    const answer = await this.connection.request(
      { type: 'conversations', reqId: this.newId() },
      'conversations_result',
    );
    return answer.conversations.map((c) => ({
      conversationId: c.conversationId,
      type: c.type,
      title: c.title,
      lastSeq: c.lastSeq,
      readSeq: c.readSeq,
      unread: c.unread,
      // A server before protocol revision 2 does not count mentions.
      mentions: c.mentions ?? 0,
      lastMessage: c.lastMessage ? toMessage(c.lastMessage) : null,
    }));
  }

  /**
   * Who of the other members has a message and who read it. In a group this is asked for, not
   * pushed: the server pushes a group's reads only to the reader's own devices.
   */
  async receipts(conversationId: string, seq: number): Promise<Receipts> {
    const answer = await this.connection.request(
      { type: 'receipts', reqId: this.newId(), conversationId, seq },
      'receipts_result',
    );
    return {
      conversationId: answer.conversationId,
      seq: answer.seq,
      members: answer.members,
      delivered: answer.delivered,
      read: answer.read,
      ...(answer.users ? { users: answer.users } : {}),
    };
  }

  /** A page of history; its messages are stored (and emitted if new) like any others. */
  async history(conversationId: string, query: HistoryQuery): Promise<HistoryResult> {
    return this.requestHistory(conversationId, query);
  }

  /** The stored messages of a conversation, ascending by seq. */
  async timeline(conversationId: string): Promise<Message[]> {
    await this.init();
    return this.timelineStore.list(conversationId);
  }

  /** The outbox entries, oldest first. */
  outbox(): OutboxEntry[] {
    return this.outboxQueue.entries();
  }

  /** Sends a failed entry again (same frame, same clientMsgId); resolves with its ack. */
  async retry(clientMsgId: string): Promise<Ack> {
    this.assertOpen();
    await this.init();
    return this.outboxQueue.retry(clientMsgId);
  }

  /** Removes an entry from the outbox (a failed message the user gave up on). */
  async discard(clientMsgId: string): Promise<void> {
    await this.init();
    return this.outboxQueue.discard(clientMsgId);
  }

  private enqueue(frame: OutboxFrame): SendHandle {
    this.assertOpen();
    void this.init();
    return { clientMsgId: frame.clientMsgId, acked: this.outboxQueue.add(frame) };
  }

  /** Loads the outbox and the cursors once; load errors are reported as 'error' events. */
  private init(): Promise<void> {
    this.initialized ??= Promise.all([
      this.outboxQueue.load().catch(() => undefined), // the outbox reports its own failure
      this.timelineStore
        .load()
        .catch((error: unknown) =>
          this.emit('error', asClientError(error, 'storage', 'loading cursors failed')),
        ),
    ]).then(() => undefined);
    return this.initialized;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientError('closed', 'the client was closed');
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private onWelcome(welcome: Welcome): void {
    this.me = welcome.userId;
    const session = ++this.session;
    this.setState('syncing');
    void this.syncThenReady(session, welcome.epoch);
  }

  private onDown(): void {
    this.session++;
    this.writable = false;
    this.timelineStore.setGapFill(false);
    this.setState('offline');
  }

  /** The connection may carry the outbox, deliver_acks and reads (its epoch was checked). */
  private resume(): void {
    this.writable = true;
    // Resends do not wait for sync: the server answers them independently (same ack).
    this.outboxQueue.online();
    this.timelineStore.online();
    for (const [conversationId, seq] of this.unsentReads)
      if (this.connection.write({ type: 'read', conversationId, seq }))
        this.unsentReads.delete(conversationId);
  }

  /**
   * docs/protocol.md §7.9. True when `epoch` is not the one the stored messages came with; they
   * were dropped then (see Timeline.adoptEpoch). Reads kept for the next welcome go too (their
   * seqs are of the earlier history), and so do pending edits, reactions and recalls: each aims
   * at a seq that may name another message now, so it fails rather than change that one. Sends
   * stay and are resent: they are not history, and the server answers each with its ack.
   */
  private async adoptEpoch(epoch: string | undefined): Promise<boolean> {
    if (epoch === undefined) return false; // a server before protocol revision 2
    let previous: string | undefined;
    try {
      previous = await this.timelineStore.adoptEpoch(epoch);
    } catch (error) {
      throw asClientError(error, 'storage', 'checking the epoch of the stored messages failed');
    }
    if (previous === undefined) return false;
    this.unsentReads.clear();
    this.emit('epochChanged', { previous, epoch });
    this.outboxQueue.failPending(
      (frame) => frame.type !== 'send',
      (ref) =>
        new ClientError(
          'epoch_changed',
          `the server's history changed epoch; its target seq may be another message now`,
          ref,
        ),
    );
    return true;
  }

  private async syncThenReady(session: number, epoch: string | undefined): Promise<void> {
    let resumed = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.init();
        if (session !== this.session) return;
        if (!resumed) {
          await this.adoptEpoch(epoch);
          if (session !== this.session) return;
          this.resume();
          resumed = true;
        }
        await this.syncAll(session);
        if (session !== this.session) return;
        this.connection.resetBackoff();
        this.setState('ready');
        this.timelineStore.setGapFill(true);
        return;
      } catch (error) {
        if (session !== this.session) return; // the connection is already gone; its loss handles it
        const e = asClientError(error, 'storage', 'sync failed');
        this.emit('error', e);
        // The server answered, so the link works: a passing failure (a database restart) is
        // retried on this connection, instead of reconnecting with a backoff that has grown.
        if (e.retryable && e.code !== 'storage' && attempt < SYNC_RETRY.attempts) {
          const delay =
            Math.min(SYNC_RETRY.capMs, SYNC_RETRY.baseMs * 2 ** attempt) * (0.5 + this.random() / 2);
          await new Promise<void>((resolve) => this.clock.setTimeout(resolve, delay));
          if (session !== this.session) return;
          continue;
        }
        this.connection.drop('sync failed');
        return;
      }
    }
  }

  /**
   * `sync` from our contiguous cursors, then with the returned cursors while hasMore. A
   * conversation missing from our cursors starts where the server has this device's
   * delivered cursor; the first page tells where that is.
   */
  private async syncAll(session: number): Promise<void> {
    let cursors: Record<string, number> | undefined = nonEmpty(this.timelineStore.cursorSnapshot());
    let retriedForbidden = false;
    for (;;) {
      let page: ServerFrameMap['sync_result'];
      try {
        page = await this.connection.request(
          { type: 'sync', reqId: this.newId(), ...(cursors ? { cursors } : {}), limit: this.syncPageSize },
          'sync_result',
        );
      } catch (error) {
        // A cursor of a conversation the user has left makes the whole sync forbidden:
        // drop those cursors (asking which conversations are still ours) and try once more.
        if (!(error instanceof ClientError) || error.code !== 'forbidden' || !cursors || retriedForbidden)
          throw error;
        retriedForbidden = true;
        const mine = new Set((await this.conversations()).map((c) => c.conversationId));
        const gone = Object.keys(cursors).filter((c) => !mine.has(c));
        this.timelineStore.forget(gone);
        cursors = nonEmpty(Object.fromEntries(Object.entries(cursors).filter(([c]) => mine.has(c))));
        continue;
      }
      if (session !== this.session) return;
      // The history changed epoch since the welcome: this page answered cursors of the old one.
      if (await this.adoptEpoch(epochOf(page.epoch))) {
        if (session !== this.session) return;
        cursors = nonEmpty(this.timelineStore.cursorSnapshot());
        retriedForbidden = false;
        continue;
      }
      const sent = cursors ?? {};
      const withMessages = new Set(page.messages.map((m) => m.conversationId));
      const coverage: Coverage[] = Object.entries(page.cursors).map(([conversationId, upTo]) => {
        const ours = Object.hasOwn(sent, conversationId);
        return {
          conversationId,
          after: ours ? sent[conversationId] : Number.NEGATIVE_INFINITY,
          upTo,
          serverHasIt: !ours && !withMessages.has(conversationId),
        };
      });
      this.settleOwn(page.messages);
      await this.timelineStore.ingest(page.messages, coverage);
      if (!page.hasMore) return;
      cursors = page.cursors;
    }
  }

  private async requestHistory(conversationId: string, query: HistoryQuery): Promise<HistoryResult> {
    const afterSeq = 'afterSeq' in query ? query.afterSeq : undefined;
    const beforeSeq = 'beforeSeq' in query ? query.beforeSeq : undefined;
    if ((afterSeq === undefined) === (beforeSeq === undefined))
      throw new ClientError('bad_request', 'history needs exactly one of afterSeq and beforeSeq');
    const answer = await this.connection.request(
      {
        type: 'history',
        reqId: this.newId(),
        conversationId,
        ...(afterSeq !== undefined ? { afterSeq } : { beforeSeq }),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      },
      'history_result',
    );
    const messages = answer.messages.map(toMessage);
    this.settleOwn(messages);
    // An afterSeq page covers (afterSeq, last seq]: what is missing in it does not exist.
    const coverage: Coverage[] =
      afterSeq !== undefined && messages.length > 0
        ? [{ conversationId, after: afterSeq, upTo: messages[messages.length - 1].seq }]
        : [];
    await this.timelineStore.ingest(messages, coverage);
    return { messages, hasMore: answer.hasMore };
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'message':
        this.settleOwn([frame]);
        this.ingestLive([frame], true);
        return;
      case 'ack':
        this.outboxQueue.ack({
          clientMsgId: frame.clientMsgId,
          conversationId: frame.conversationId,
          seq: frame.seq,
          messageId: frame.messageId,
          sentAt: frame.sentAt,
        });
        return;
      case 'receipt':
        this.emit('receipt', {
          conversationId: frame.conversationId,
          kind: frame.kind,
          userId: frame.userId,
          seq: frame.seq,
        });
        return;
      case 'typing':
        this.emit('typing', { conversationId: frame.conversationId, userId: frame.userId });
        return;
      case 'error': {
        const error = new ClientError(frame.code, frame.message, frame.ref);
        if (frame.ref === undefined || !this.outboxQueue.error(frame.ref, error)) this.emit('error', error);
        return;
      }
      default:
        return; // pong (its arrival already counted as a sign of life), late answers
    }
  }

  /**
   * The server pushes an own message to the *other* devices only, so the sender stores its
   * message from the frame it sent and the ack; its seq then counts as delivered here too.
   */
  private onAcked(entry: OutboxEntry, ack: Ack): void {
    this.ingestLive([ownMessage(entry.frame, ack, this.me ?? '')]);
    this.emit('ack', ack);
  }

  /** Outbox entries whose own message came back (same sender and clientMsgId) are done. */
  private settleOwn(messages: readonly Message[]): void {
    for (const m of messages)
      if (m.senderId === this.me)
        this.outboxQueue.arrived({
          clientMsgId: m.clientMsgId,
          conversationId: m.conversationId,
          seq: m.seq,
          messageId: m.messageId,
          sentAt: m.sentAt,
        });
  }

  /** `pushed`: the server pushed these, so one we already hold is answered with deliver_ack again. */
  private ingestLive(messages: Message[], pushed = false): void {
    this.timelineStore
      .ingest(messages, [], pushed ? 'push' : 'own')
      .catch((error: unknown) =>
        this.emit('error', asClientError(error, 'storage', 'storing a message failed')),
      );
  }
}

function nonEmpty(cursors: Record<string, number>): Record<string, number> | undefined {
  return Object.keys(cursors).length > 0 ? cursors : undefined;
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  // Outside secure contexts browsers lack randomUUID; 128 random bits are unique enough here.
  let id = '';
  for (let i = 0; i < 4; i++) id += Math.floor(Math.random() * 2 ** 32).toString(36);
  return `${Date.now().toString(36)}-${id}`;
}

function defaultSocketFactory(): SocketFactory {
  const WebSocketImpl = globalWebSocket();
  if (!WebSocketImpl)
    throw new TypeError(
      'no global WebSocket here (Node 20): pass socketFactory, e.g. (url) => new WebSocket(url) from the ws package',
    );
  return (url) => new WebSocketImpl(url);
}
