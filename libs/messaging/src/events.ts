import type { ErrorCode } from '@im/protocol';

/** Where a send came from, so that its ack can be routed back to that connection or REST call. */
export interface Origin {
  gatewayId: string;
  /** A live WebSocket connection id, or `rest:<uuid>` for an admin call waiting for its ack. */
  connId: string;
  deviceId: string | null;
}

/** gateway → sequencer: a message (send, recall or system) accepted at the edge. */
export interface InboundMessage {
  conversationId: string;
  senderId: string;
  clientMsgId: string;
  contentType: string;
  body: Record<string, unknown>;
  /** A send's answer-to seq and mentioned users, when it named them. */
  replyTo?: number;
  mentions?: string[];
  origin: Origin | null;
  acceptedAt: number;
}

/** sequencer → storage: the message with its seq and messageId. */
export interface SequencedMessage extends InboundMessage {
  seq: number;
  messageId: string;
  sentAt: number;
  /** The sequencer had seen this clientMsgId before: a client's resend, not a new message. */
  retry: boolean;
}

/** storage → delivery: the message as PostgreSQL holds it. */
export interface PersistedMessage extends SequencedMessage {
  /** This event's write inserted the row (false when it was already stored). */
  fresh: boolean;
  storedAt: number;
}

/** storage → delivery: a send that could not be stored (answered to the origin as an error). */
export interface RejectedMessage {
  conversationId: string;
  clientMsgId: string;
  origin: Origin | null;
  code: ErrorCode;
  message: string;
}

/** gateway → delivery: what a device did that other devices hear about. */
export type DeviceSignal =
  | { kind: 'deliver_ack'; userId: string; deviceId: string; conversationId: string; seq: number }
  | { kind: 'read'; userId: string; deviceId: string; conversationId: string; seq: number }
  | { kind: 'typing'; userId: string; deviceId: string; conversationId: string };

/**
 * delivery → its webhook sender: a stored message that members with no online device should be
 * told of (docs/protocol.md §5.8, message.offline). The topic is the webhook's durable queue.
 */
export interface OfflineNotice {
  messageId: string;
  conversationId: string;
  seq: number;
  senderId: string;
  contentType: string;
  preview: string;
  recipients: string[];
  storedAt: number;
}

/** Every topic with the one event type it carries. All are keyed by conversation id. */
export interface TopicEvents {
  inbound: InboundMessage;
  sequenced: SequencedMessage;
  persisted: PersistedMessage | ({ rejected: true } & RejectedMessage);
  signals: DeviceSignal;
  offline: OfflineNotice;
}
export type TopicName = keyof TopicEvents;
export const TOPIC_NAMES: readonly TopicName[] = ['inbound', 'sequenced', 'persisted', 'signals', 'offline'];

export const isRejected = (e: TopicEvents['persisted']): e is { rejected: true } & RejectedMessage =>
  'rejected' in e && e.rejected === true;
