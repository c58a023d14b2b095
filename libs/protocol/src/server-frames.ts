/** Server → client frames (PROTOCOL §4). */
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
}

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
  unread: number;
  lastMessage: MessageView | null;
}

export interface MemberReceipt {
  userId: string;
  deliveredSeq: number;
  readSeq: number;
}

/** `receipts_result` lists users only up to this many members (PROTOCOL §4). */
export const RECEIPTS_USERS_MAX = 200;

export interface ServerFrameMap {
  welcome: { type: 'welcome'; userId: string; deviceId: string; serverTime: number; heartbeatMs: number };
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
  typing: { type: 'typing'; conversationId: string; userId: string };
  pong: { type: 'pong'; serverTime: number };
  error: { type: 'error'; ref?: string; code: import('./errors').ErrorCode; message: string };
}

export type ServerFrame = ServerFrameMap[keyof ServerFrameMap];

export const messageFrame = (m: MessageView): ServerFrameMap['message'] => ({ type: 'message', ...m });
