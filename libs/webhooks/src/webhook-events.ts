/**
 * The events the backend POSTs to WEBHOOK_URL, by their `X-IM-Event` name (docs/protocol.md §5.8).
 * They repeat fields of the Kafka events (InboundMessage, OfflineNotice) on purpose: this is a
 * public contract, and an internal event gaining a field must not change what app servers get.
 */
export interface WebhookEvents {
  'message.before_send': BeforeSendEvent;
  'message.offline': OfflineEvent;
}
export type WebhookEventName = keyof WebhookEvents;

export interface BeforeSendEvent {
  conversationId: string;
  senderId: string;
  clientMsgId: string;
  contentType: string;
  body: Record<string, unknown>;
  replyTo?: number;
  mentions?: string[];
}

export interface OfflineEvent {
  messageId: string;
  conversationId: string;
  seq: number;
  senderId: string;
  contentType: string;
  /** The first 100 characters of a text body, else empty. */
  preview: string;
  /** Members with no online device when the message was stored. */
  recipients: string[];
}

export const PREVIEW_CHARS = 100;

/** A push notification's text: the start of a text message, nothing for other kinds. */
export function previewOf(contentType: string, body: Record<string, unknown>): string {
  if (contentType !== 'text' || typeof body.text !== 'string') return '';
  // By code points, so a cut never splits a surrogate pair into an unencodable half.
  return [...body.text].slice(0, PREVIEW_CHARS).join('');
}
