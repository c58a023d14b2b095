/**
 * One simulated device of the chaos run: a real `ChatClient` of the SDK over a `ws` socket
 * that the harness can watch (wire log per connection), drop (mid-send), steer to the other
 * gateway, make skip `deliver_ack`, or make resend early.
 */
import WebSocket from 'ws';
import { ChatClient, isControl, type Message, type SendHandle, type SocketLike } from '@im/client-sdk/node';
import type { ConnectionLog, MessageRef, SendRecord } from './checker';
import type { StandingView } from './target-views';
import { prng } from './fault-schedule';

export interface DeviceOptions {
  userId: string;
  deviceId: string;
  token: string;
  /** ws://host:port of every gateway instance. */
  gateways: string[];
  home: number;
  /** Conversations this device's user is a member of. */
  conversations: string[];
  /** Never sends deliver_ack for the whole run. */
  neverDeliverAck: boolean;
  seed: number;
}

/** What a device's sends are, besides plain text: a share each, of the sends that find a target. */
const EDIT_SHARE = 0.08;
const REACT_SHARE = 0.12;
const REPLY_SHARE = 0.1;
const EMOJI = ['👍', '🎉', '❤️'];

export interface SendBudget {
  /** True when the device may send one more message now. */
  take(): boolean;
}

type Handler = ((event: never) => void) | null;

/** A SocketLike over a `ws` WebSocket that reports to its device. */
class WatchedSocket implements SocketLike {
  onopen: Handler = null;
  onmessage: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  opened = false;

  constructor(
    readonly ws: WebSocket,
    private readonly device: SimulatedDevice,
    readonly log: ConnectionLog,
  ) {
    ws.onopen = (e) => {
      this.opened = true;
      (this.onopen as ((e: unknown) => void) | null)?.(e);
    };
    ws.onmessage = (e) => {
      device.observe(this.log, e.data);
      (this.onmessage as ((e: unknown) => void) | null)?.(e);
    };
    ws.onclose = (e) => {
      device.socketClosed(this);
      (this.onclose as ((e: unknown) => void) | null)?.({ code: e.code, reason: e.reason });
    };
    ws.onerror = (e) => (this.onerror as ((e: unknown) => void) | null)?.(e);
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  send(data: string): void {
    this.device.transmit(this, data);
  }

  close(code?: number, reason?: string): void {
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }
}

let connectionCounter = 0;

export class SimulatedDevice {
  readonly client: ChatClient;
  readonly connections: ConnectionLog[] = [];
  readonly received: MessageRef[] = [];
  readonly sends = new Map<string, SendRecord>();
  readonly errors = new Map<string, number>();
  /** When each message of another sender first reached this device (ms since the epoch). */
  readonly deliveredAt: number[] = [];
  /** `${conversationId}#${seq}` of every stored message. */
  private readonly held = new Set<string>();
  /** Per conversation: seqs of messages that say something (targets for reactions and replies), and who spoke. */
  private readonly targets = new Map<string, number[]>();
  private readonly speakers = new Map<string, Set<string>>();
  /** Per conversation: seqs of this user's own acked text messages (targets for edits). */
  private readonly ownTexts = new Map<string, number[]>();
  private readonly random: () => number;
  private home: number;
  private socket?: WatchedSocket;
  private noAckUntil = 0;
  private resendEarlyUntil = 0;
  private pending = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly early = new Set<NodeJS.Timeout>();
  failed = 0;

  constructor(readonly options: DeviceOptions) {
    this.random = prng(options.seed);
    this.home = options.home;
    this.client = new ChatClient({
      baseUrl: options.gateways[0],
      deviceId: options.deviceId,
      token: options.token,
      socketFactory: (url) => this.openSocket(url),
      reconnectBaseMs: 300,
      reconnectCapMs: 4000,
      connectTimeoutMs: 8000,
      requestTimeoutMs: 10_000,
    });
    this.client.on('message', (m: Message) => {
      this.received.push(ref(m));
      if (m.senderId !== options.userId) this.deliveredAt.push(Date.now());
      this.held.add(`${m.conversationId}#${m.seq}`);
      if (isControl(m) || m.recalled) return;
      push(this.targets, m.conversationId, m.seq);
      if (m.senderId !== options.userId && m.senderId !== 'system')
        this.speakers.set(
          m.conversationId,
          (this.speakers.get(m.conversationId) ?? new Set()).add(m.senderId),
        );
    });
    this.client.on('error', (e) => this.errors.set(e.code, (this.errors.get(e.code) ?? 0) + 1));
    this.client.on('failed', () => this.failed++);
  }

  get userId(): string {
    return this.options.userId;
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  get ready(): boolean {
    return this.client.state === 'ready';
  }

  get outboxSize(): number {
    return this.client.outbox().length;
  }

  holds(conversationId: string, seq: number): boolean {
    return this.held.has(`${conversationId}#${seq}`);
  }

  async start(): Promise<void> {
    await this.client.connect();
  }

  /** Sends at its own pace (exponential gaps around `meanIntervalMs`) while the budget allows. */
  pace(meanIntervalMs: () => number, maxPending: number, budget: SendBudget): void {
    const tick = () => {
      if (this.stopped) return;
      if (this.pending < maxPending && budget.take()) this.sendOne();
      const mean = meanIntervalMs();
      const gap = -Math.log(1 - this.random()) * mean;
      this.timer = setTimeout(tick, Math.min(gap, mean * 5));
    };
    this.timer = setTimeout(tick, this.random() * meanIntervalMs());
  }

  stopSending(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /**
   * Two sends to one conversation `gapMs` apart, on one connection when it stays up: the shape
   * of issue 12 (A refused while Redis is down must hold back B, queued behind it). Returns how
   * many went out.
   */
  async sendPair(conversationId: string, gapMs: number, budget: SendBudget): Promise<number> {
    if (!budget.take()) return 0;
    this.sendOne(conversationId);
    await new Promise((r) => setTimeout(r, gapMs));
    if (!budget.take()) return 1;
    this.sendOne(conversationId);
    return 2;
  }

  /**
   * One message: mostly text, sometimes an edit of an own message, a reaction to a message
   * this device holds, or a reply to one that mentions someone who spoke there.
   */
  private sendOne(conversationId = this.pickConversation()): void {
    const roll = this.random();
    const own = this.ownTexts.get(conversationId) ?? [];
    const targets = this.targets.get(conversationId) ?? [];
    const pick = <T>(list: readonly T[]) => list[Math.floor(this.random() * list.length)];
    const text = { text: `chaos ${this.deviceId} ${this.sends.size}` };
    let plain = false;
    let handle: SendHandle;
    if (roll < EDIT_SHARE && own.length > 0) {
      handle = this.client.edit(conversationId, pick(own.slice(-20)), { text: `${text.text} (edited)` });
    } else if (roll < EDIT_SHARE + REACT_SHARE && targets.length > 0) {
      const op = this.random() < 0.3 ? 'remove' : 'add';
      handle = this.client.react(conversationId, pick(targets.slice(-50)), pick(EMOJI), op);
    } else if (roll < EDIT_SHARE + REACT_SHARE + REPLY_SHARE && targets.length > 0) {
      const speakers = [...(this.speakers.get(conversationId) ?? [])];
      handle = this.client.send(conversationId, text, 'text', {
        replyTo: pick(targets.slice(-50)),
        ...(speakers.length > 0 ? { mentions: [pick(speakers)] } : {}),
      });
      plain = true;
    } else {
      handle = this.client.send(conversationId, text);
      plain = true;
    }
    const record: SendRecord = {
      clientMsgId: handle.clientMsgId,
      conversationId,
      senderId: this.userId,
      deviceId: this.deviceId,
      queuedAt: Date.now(),
    };
    this.sends.set(handle.clientMsgId, record);
    this.pending++;
    handle.acked.then(
      (ack) => {
        record.ack = { seq: ack.seq, messageId: ack.messageId };
        record.ackedAt = Date.now();
        if (plain) push(this.ownTexts, conversationId, ack.seq);
        this.pending--;
      },
      () => {
        this.pending--;
      },
    );
  }

  private pickConversation(): string {
    const conversations = this.options.conversations;
    return conversations[Math.floor(this.random() * conversations.length)];
  }

  /** Drops the live socket without a close handshake (as a lost network does); the next attempt goes to the other gateway. */
  drop(): boolean {
    const s = this.socket;
    if (!s || s.ws.readyState !== WebSocket.OPEN) return false;
    this.home = (this.home + 1) % this.options.gateways.length;
    s.ws.terminate();
    return true;
  }

  suppressDeliverAck(untilMs: number): void {
    this.noAckUntil = Math.max(this.noAckUntil, untilMs);
  }

  resendEarly(untilMs: number): void {
    this.resendEarlyUntil = Math.max(this.resendEarlyUntil, untilMs);
  }

  get suppressingAcks(): boolean {
    return this.options.neverDeliverAck || Date.now() < this.noAckUntil;
  }

  async timelines(): Promise<Record<string, MessageRef[]>> {
    const out: Record<string, MessageRef[]> = {};
    for (const c of this.options.conversations) out[c] = (await this.client.timeline(c)).map(ref);
    return out;
  }

  /** Every message this device holds, as it stands: what the target check compares with the database. */
  async standingViews(): Promise<Record<string, StandingView[]>> {
    const out: Record<string, StandingView[]> = {};
    for (const c of this.options.conversations)
      out[c] = (await this.client.timeline(c)).map((m) => ({
        seq: m.seq,
        contentType: m.contentType,
        body: m.body,
        ...(m.editedAt !== undefined ? { editedAt: m.editedAt } : {}),
        ...(m.reactions !== undefined ? { reactions: m.reactions } : {}),
        ...(m.recalled ? { recalled: true } : {}),
      }));
    return out;
  }

  close(): void {
    this.stopSending();
    for (const t of this.early) clearTimeout(t);
    this.client.close();
  }

  // --- socket plumbing -------------------------------------------------------------------

  private openSocket(url: string): SocketLike {
    const base = this.options.gateways[0];
    const target = this.options.gateways[this.home] + url.slice(base.length);
    const log: ConnectionLog = {
      connectionId: `${this.deviceId}/c${++connectionCounter}@gw${this.home}`,
      userId: this.userId,
      deviceId: this.deviceId,
      events: [],
    };
    this.connections.push(log);
    const socket = new WatchedSocket(new WebSocket(target), this, log);
    this.socket = socket;
    return socket;
  }

  /** @internal a socket closed; if it never opened, the gateway is unreachable: try the other one next. */
  socketClosed(socket: WatchedSocket): void {
    if (!socket.opened) this.home = (this.home + 1) % this.options.gateways.length;
  }

  /** @internal every frame the SDK writes. */
  transmit(socket: WatchedSocket, data: string): void {
    const frame = JSON.parse(data) as { type: string; clientMsgId?: string };
    if (frame.type === 'deliver_ack' && this.suppressingAcks) return;
    const write = () => {
      if (socket.ws.readyState !== WebSocket.OPEN) return;
      if (MESSAGE_FRAMES.has(frame.type) && frame.clientMsgId)
        socket.log.events.push({ kind: 'send', clientMsgId: frame.clientMsgId, at: Date.now() });
      socket.ws.send(data);
    };
    write();
    if (frame.type === 'send' && Date.now() < this.resendEarlyUntil) {
      // A client that does not wait for the ladder: the same frame again after 10–300 ms,
      // and for some messages at once as well.
      if (this.random() < 0.3) write();
      const t = setTimeout(
        () => {
          this.early.delete(t);
          write();
        },
        10 + this.random() * 290,
      );
      this.early.add(t);
    }
  }

  /** @internal every frame the server sends on a connection. */
  observe(log: ConnectionLog, data: unknown): void {
    const text =
      typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    if (!text.includes('"type":"ack"') && !text.includes('"type":"error"')) return;
    const f = JSON.parse(text) as {
      type: string;
      clientMsgId?: string;
      conversationId?: string;
      seq?: number;
      messageId?: string;
      ref?: string;
      code?: string;
    };
    if (f.type === 'ack' && f.clientMsgId)
      log.events.push({
        at: Date.now(),
        kind: 'ack',
        clientMsgId: f.clientMsgId,
        conversationId: f.conversationId ?? '',
        seq: f.seq ?? -1,
        messageId: f.messageId ?? '',
      });
    else if (f.type === 'error' && f.ref && this.sends.has(f.ref))
      log.events.push({ kind: 'error', clientMsgId: f.ref, code: f.code ?? '', at: Date.now() });
  }
}

/** Frames that become messages: their wire events feed the order and duplicate checks. */
const MESSAGE_FRAMES = new Set(['send', 'edit', 'react', 'recall']);

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const ref = (m: Message): MessageRef => ({
  conversationId: m.conversationId,
  seq: m.seq,
  messageId: m.messageId,
  senderId: m.senderId,
  clientMsgId: m.clientMsgId,
});
