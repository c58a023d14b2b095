import type { MessageView } from '@im/protocol';

export interface MessageRow {
  conversation_id: string;
  seq: string;
  message_id: string;
  sender_id: string;
  client_msg_id: string;
  content_type: string;
  body: Record<string, unknown>;
  recalled: boolean;
  sent_at: Date;
}

export const MESSAGE_COLUMNS =
  'conversation_id, seq, message_id, sender_id, client_msg_id, content_type, body, recalled, sent_at';

export function toMessageView(row: MessageRow): MessageView {
  const view: MessageView = {
    conversationId: row.conversation_id,
    seq: Number(row.seq),
    messageId: row.message_id,
    senderId: row.sender_id,
    clientMsgId: row.client_msg_id,
    contentType: row.content_type,
    body: row.recalled ? {} : row.body,
    sentAt: row.sent_at.getTime(),
  };
  if (row.recalled) view.recalled = true;
  return view;
}
