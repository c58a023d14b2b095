/**
 * The frames of the client contract (docs/protocol.md §2–4). Defined here, not imported from
 * libs/protocol, so that the SDK can be published alone and carries no server code.
 */

/** Codes of the server's `error` frame. */
export const PROTOCOL_ERROR_CODES = [
  'bad_request',
  'forbidden',
  'not_found',
  'too_large',
  'rate_limited',
  'unavailable',
  'rejected',
  'internal',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/** WebSocket close codes the server uses. */
export const CloseCode = {
  goingAway: 1001,
  tooBig: 1009,
  unauthorized: 4401,
  forbidden: 4403,
  heartbeatTimeout: 4408,
  replaced: 4409,
  rateLimited: 4429,
} as const;

export type SendContentType = 'text' | 'image' | 'file' | 'custom';

/** A message as the server delivers it (push, sync, history) and as the store keeps it. */
export interface Message {
  conversationId: string;
  seq: number;
  messageId: string;
  senderId: string;
  clientMsgId: string;
  /** A send's content type, or 'system', or a control message: 'recall' (body {targetSeq}), 'edit' (body {targetSeq, body}), 'reaction' (body {targetSeq, emoji, op}). */
  contentType: string;
  body: Record<string, unknown>;
  sentAt: number;
  /** True once the message was recalled; its body is then empty. */
  recalled?: boolean;
  /** The seq of the message this one answers. */
  replyTo?: number;
  /** The users this message mentions. */
  mentions?: string[];
  /** When the newest edit was made (ms); the body is then the edited one. */
  editedAt?: number;
  /** Reactions by emoji, ordered by the oldest reaction each still has; absent when none. */
  reactions?: Reaction[];
}

export interface Reaction {
  emoji: string;
  count: number;
  /** The first 20 users who reacted with it. */
  userIds: string[];
}

export interface Ack {
  clientMsgId: string;
  conversationId: string;
  seq: number;
  messageId: string;
  sentAt: number;
}

export interface Receipt {
  conversationId: string;
  kind: 'delivered' | 'read';
  userId: string;
  seq: number;
}

export interface Typing {
  conversationId: string;
  userId: string;
}

export interface ConversationSummary {
  conversationId: string;
  type: 'direct' | 'group';
  title: string | null;
  lastSeq: number;
  readSeq: number;
  unread: number;
  mentions: number;
  lastMessage: Message | null;
}

export interface Welcome {
  userId: string;
  deviceId: string;
  serverTime: number;
  heartbeatMs: number;
  /** The history's generation (absent from servers before protocol revision 2). */
  epoch?: string;
}

// Client → server.
export interface SendFrame {
  type: 'send';
  clientMsgId: string;
  conversationId: string;
  contentType: SendContentType;
  body: Record<string, unknown>;
  replyTo?: number;
  mentions?: string[];
}
export interface EditFrame {
  type: 'edit';
  clientMsgId: string;
  conversationId: string;
  targetSeq: number;
  body: Record<string, unknown>;
}
export interface ReactFrame {
  type: 'react';
  clientMsgId: string;
  conversationId: string;
  targetSeq: number;
  emoji: string;
  op: 'add' | 'remove';
}
export interface HideFrame {
  type: 'hide';
  reqId: string;
  conversationId: string;
  seq: number;
}
export interface RecallFrame {
  type: 'recall';
  clientMsgId: string;
  conversationId: string;
  targetSeq: number;
}
export interface SyncFrame {
  type: 'sync';
  reqId: string;
  cursors?: Record<string, number>;
  limit?: number;
}
export interface HistoryFrame {
  type: 'history';
  reqId: string;
  conversationId: string;
  afterSeq?: number;
  beforeSeq?: number;
  limit?: number;
}
export interface ConversationsFrame {
  type: 'conversations';
  reqId: string;
}

export interface ReceiptsFrame {
  type: 'receipts';
  reqId: string;
  conversationId: string;
  seq: number;
}

/** Of a conversation's other members, who has a message (delivered to any device) and who read it. */
export interface Receipts {
  conversationId: string;
  seq: number;
  members: number;
  delivered: number;
  read: number;
  /** Each other member's cursors; present when the conversation has at most 200 members. */
  users?: { userId: string; deliveredSeq: number; readSeq: number }[];
}
/** Cumulative: this device has stored every message of the conversation up to `seq`. */
export interface DeliverAckFrame {
  type: 'deliver_ack';
  conversationId: string;
  seq: number;
}
export interface ReadFrame {
  type: 'read';
  conversationId: string;
  seq: number;
}
export type RequestFrame = SyncFrame | HistoryFrame | ConversationsFrame | ReceiptsFrame | HideFrame;
export type ClientFrame =
  | SendFrame
  | EditFrame
  | ReactFrame
  | RecallFrame
  | RequestFrame
  | DeliverAckFrame
  | ReadFrame
  | { type: 'typing'; conversationId: string }
  | { type: 'ping' };

// Server → client.
export interface ServerFrameMap {
  welcome: { type: 'welcome' } & Welcome;
  ack: { type: 'ack' } & Ack;
  message: { type: 'message' } & Message;
  receipt: { type: 'receipt' } & Receipt;
  sync_result: {
    type: 'sync_result';
    reqId: string;
    epoch?: string;
    messages: Message[];
    cursors: Record<string, number>;
    hasMore: boolean;
  };
  history_result: {
    type: 'history_result';
    reqId: string;
    conversationId: string;
    messages: Message[];
    hasMore: boolean;
  };
  conversations_result: { type: 'conversations_result'; reqId: string; conversations: ConversationSummary[] };
  receipts_result: { type: 'receipts_result'; reqId: string } & Receipts;
  hide_result: { type: 'hide_result'; reqId: string; conversationId: string; seq: number };
  typing: { type: 'typing' } & Typing;
  pong: { type: 'pong'; serverTime: number };
  error: { type: 'error'; ref?: string; code: ProtocolErrorCode; message: string };
}
export type ServerFrameType = keyof ServerFrameMap;
export type ServerFrame = ServerFrameMap[ServerFrameType];

const SERVER_FRAME_TYPES: ReadonlySet<string> = new Set<ServerFrameType>([
  'welcome',
  'ack',
  'message',
  'receipt',
  'sync_result',
  'history_result',
  'conversations_result',
  'receipts_result',
  'hide_result',
  'typing',
  'pong',
  'error',
]);

/**
 * Parses a server frame. The server is trusted for field shapes, but a frame that is not a
 * JSON object of a known type is refused here so the rest of the client never sees it.
 */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && SERVER_FRAME_TYPES.has(type) ? (value as ServerFrame) : undefined;
}

/**
 * The `epoch` of a welcome or sync_result when it is one (a string of 1–64 chars). Anything
 * else counts as absent, as from a server before revision 2: a malformed value must not make
 * the client drop its store.
 */
export function epochOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length >= 1 && value.length <= 64 ? value : undefined;
}

/** The message fields of a frame, without `type` or anything unknown. */
export function toMessage(m: Message): Message {
  const message: Message = {
    conversationId: m.conversationId,
    seq: m.seq,
    messageId: m.messageId,
    senderId: m.senderId,
    clientMsgId: m.clientMsgId,
    contentType: m.contentType,
    body: m.body,
    sentAt: m.sentAt,
  };
  if (m.recalled) message.recalled = true;
  if (m.replyTo !== undefined) message.replyTo = m.replyTo;
  if (m.mentions !== undefined) message.mentions = m.mentions;
  if (m.editedAt !== undefined) message.editedAt = m.editedAt;
  if (m.reactions !== undefined) message.reactions = m.reactions;
  return message;
}
