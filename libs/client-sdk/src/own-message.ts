import type { OutboxFrame } from './outbox-storage';
import type { Ack, Message } from './protocol';

/**
 * The message an acked frame became, as the server stores it (docs/protocol.md §4.3). The
 * server does not push a sender's message back to the device that sent it, so that device
 * stores it from the frame it sent and the ack.
 */
export function ownMessage(frame: OutboxFrame, ack: Ack, senderId: string): Message {
  const message: Message = {
    conversationId: ack.conversationId,
    seq: ack.seq,
    messageId: ack.messageId,
    senderId,
    clientMsgId: ack.clientMsgId,
    contentType: 'text',
    body: {},
    sentAt: ack.sentAt,
  };
  switch (frame.type) {
    case 'send':
      message.contentType = frame.contentType;
      message.body = frame.body;
      if (frame.replyTo !== undefined) message.replyTo = frame.replyTo;
      if (frame.mentions !== undefined) message.mentions = frame.mentions;
      break;
    case 'edit':
      message.contentType = 'edit';
      message.body = { targetSeq: frame.targetSeq, body: frame.body };
      break;
    case 'react':
      message.contentType = 'reaction';
      message.body = { targetSeq: frame.targetSeq, emoji: frame.emoji, op: frame.op };
      break;
    case 'recall':
      message.contentType = 'recall';
      message.body = { targetSeq: frame.targetSeq };
      break;
  }
  return message;
}
