import { CONTROL_CONTENT_TYPES, type MessageView, type ReactionSummary } from '@im/protocol';

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
  reply_to: string | null;
  mentions: string[] | null;
  /** Set by the newest edit of this message. */
  edited_at: Date | null;
  /** The summary storage keeps beside message_reactions; null when there are none. */
  reactions: ReactionSummary[] | null;
}

/** The control content types as an SQL list, for `content_type NOT IN (...)`: messages that say nothing themselves. */
export const CONTROL_TYPES_SQL = CONTROL_CONTENT_TYPES.map((t) => `'${t}'`).join(', ');

export const MESSAGE_COLUMNS =
  'conversation_id, seq, message_id, sender_id, client_msg_id, content_type, body, recalled, sent_at, reply_to, mentions, edited_at, reactions';

/** A send's reply and mentions as the message frame carries them: only when it had them. */
export function sendExtras(
  row: Pick<MessageRow, 'reply_to' | 'mentions'>,
): Pick<MessageView, 'replyTo' | 'mentions'> {
  const extras: Pick<MessageView, 'replyTo' | 'mentions'> = {};
  if (row.reply_to !== null) extras.replyTo = Number(row.reply_to);
  if (row.mentions !== null) extras.mentions = row.mentions;
  return extras;
}

/** The message as it stands: a recalled one empty, an edited one with its newest body and edit time. */
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
    ...sendExtras(row),
  };
  if (row.recalled) {
    view.recalled = true;
    return view;
  }
  if (row.edited_at !== null) view.editedAt = row.edited_at.getTime();
  if (row.reactions !== null && row.reactions.length > 0) view.reactions = row.reactions;
  return view;
}
