/** Server → client frames (docs/protocol.md §4). */
export interface MessageView {
  conversationId: string;
  seq: number;
  messageId: string;
  senderId: string;
  clientMsgId: string;
  contentType: string;
  body: Record<string, unknown>;
  sentAt: number;
  /** Present (true) only on a message that was recalled; its body is then empty. */
  recalled?: true;
  /** The seq of the message this one answers, when the send named one. */
  replyTo?: number;
  /** The users the send mentioned, when it named any. */
  mentions?: string[];
  /** When the newest edit was made (ms); present only on an edited message. */
  editedAt?: number;
  /** The reactions the message has, by emoji, ordered by the oldest reaction each still has; absent when none. */
  reactions?: ReactionSummary[];
}

/** One emoji's reactions to a message. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  /** The first REACTION_USERS_MAX users who reacted with it, in the order they did. */
  userIds: string[];
}

/** A reaction summary names at most this many users per emoji. */
export const REACTION_USERS_MAX = 20;

export interface AckFields {
  clientMsgId: string;
  conversationId: string;
  seq: number;
  messageId: string;
  sentAt: number;
}

export interface ConversationSummary {
  conversationId: string;
  type: 'direct' | 'group';
  title: string | null;
  lastSeq: number;
  readSeq: number;
  /** Others' messages after readSeq, control messages (recall, edit, reaction) left out. */
  unread: number;
  /** Of those, the ones that mention this user. */
  mentions: number;
  lastMessage: MessageView | null;
}

export interface MemberReceipt {
  userId: string;
  deliveredSeq: number;
  readSeq: number;
}

/** `receipts_result` lists users only up to this many members (docs/protocol.md §4). */
export const RECEIPTS_USERS_MAX = 200;

export interface ServerFrameMap {
  welcome: {
    type: 'welcome';
    userId: string;
    deviceId: string;
    serverTime: number;
    heartbeatMs: number;
    /** The history's generation: a new one means seqs a client holds may name other messages. */
    epoch: string;
  };
  ack: { type: 'ack' } & AckFields;
  message: { type: 'message' } & MessageView;
  receipt: {
    type: 'receipt';
    conversationId: string;
    kind: 'delivered' | 'read';
    userId: string;
    seq: number;
  };
  sync_result: {
    type: 'sync_result';
    reqId: string;
    epoch: string;
    messages: ServerFrameMap['message'][];
    cursors: Record<string, number>;
    hasMore: boolean;
  };
  history_result: {
    type: 'history_result';
    reqId: string;
    conversationId: string;
    messages: ServerFrameMap['message'][];
    hasMore: boolean;
  };
  conversations_result: { type: 'conversations_result'; reqId: string; conversations: ConversationSummary[] };
  receipts_result: {
    type: 'receipts_result';
    reqId: string;
    conversationId: string;
    seq: number;
    /** The conversation's other members. */
    members: number;
    /** Of them, how many have a delivered (any device) / read cursor at or above `seq`. */
    delivered: number;
    read: number;
    /** Each other member's cursors, when the conversation has at most RECEIPTS_USERS_MAX members. */
    users?: MemberReceipt[];
  };
  hide_result: { type: 'hide_result'; reqId: string; conversationId: string; seq: number };
  typing: { type: 'typing'; conversationId: string; userId: string };
  pong: { type: 'pong'; serverTime: number };
  error: { type: 'error'; ref?: string; code: import('./errors').ErrorCode; message: string };
}

export type ServerFrame = ServerFrameMap[keyof ServerFrameMap];

export const messageFrame = (m: MessageView): ServerFrameMap['message'] => ({ type: 'message', ...m });
