// The public face of @im/client-sdk. Browser-safe: nothing here imports a Node module
// (the Node file storage is in './node').
export { ChatClient } from './client';
export type {
  ChatClientOptions,
  ClientEvents,
  ConnectionState,
  EpochChange,
  HistoryQuery,
  HistoryResult,
  ReactionOp,
  SendHandle,
  SendOptions,
} from './client';
export { ClientError } from './errors';
export type { ClientErrorCode, LocalErrorCode } from './errors';
export { Emitter } from './emitter';
export type { Listener } from './emitter';
export {
  DEFAULT_RECONNECT,
  RESEND_LADDER_MS,
  RESEND_MAX_MS,
  reconnectCeiling,
  reconnectDelay,
  resendDelay,
} from './backoff';
export type { ReconnectBackoff } from './backoff';
export { systemClock } from './clock';
export type { Clock, TimerHandle } from './clock';
export type { SocketFactory, SocketLike } from './socket';
export { MemoryOutboxStorage } from './outbox-storage';
export type { OutboxEntry, OutboxFrame, OutboxState, OutboxStorage } from './outbox-storage';
export { IndexedDbOutboxStorage } from './indexeddb-outbox-storage';
export type { IndexedDbOutboxOptions } from './indexeddb-outbox-storage';
export { MemoryMessageStore } from './message-store';
export type { MessageStore, StoredMessage } from './message-store';
// For rendering: control messages are part of timeline() but are not chat bubbles.
export { controlTarget, isControl } from './target-state';
export { CloseCode, PROTOCOL_ERROR_CODES } from './protocol';
export type {
  Ack,
  ConversationSummary,
  EditFrame,
  HideFrame,
  Message,
  ProtocolErrorCode,
  ReactFrame,
  Reaction,
  Receipt,
  Receipts,
  RecallFrame,
  SendContentType,
  SendFrame,
  Typing,
  Welcome,
} from './protocol';
