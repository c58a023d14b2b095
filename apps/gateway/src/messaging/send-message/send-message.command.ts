import type { ClientFrameMap } from '@im/protocol';

/** A client's `send`, `edit`, `react` or `recall`, as the send use case takes it. */
export interface SendMessageCommand {
  conversationId: string;
  clientMsgId: string;
  contentType: string;
  body: Record<string, unknown>;
  replyTo?: number;
  mentions?: string[];
}

export type MessageFrame = ClientFrameMap['send' | 'edit' | 'react' | 'recall'];

/**
 * Each frame that adds a message to the conversation's stream becomes one message: a send as
 * it is, a recall, an edit or a reaction as a control message whose body names its target.
 */
export function sendCommandOf(frame: MessageFrame): SendMessageCommand {
  const { conversationId, clientMsgId } = frame;
  switch (frame.type) {
    case 'recall':
      return { conversationId, clientMsgId, contentType: 'recall', body: { targetSeq: frame.targetSeq } };
    case 'edit':
      return {
        conversationId,
        clientMsgId,
        contentType: 'edit',
        body: { targetSeq: frame.targetSeq, body: frame.body },
      };
    case 'react':
      return {
        conversationId,
        clientMsgId,
        contentType: 'reaction',
        body: { targetSeq: frame.targetSeq, emoji: frame.emoji, op: frame.op },
      };
    case 'send': {
      const command: SendMessageCommand = {
        conversationId,
        clientMsgId,
        contentType: frame.contentType,
        body: frame.body,
      };
      if (frame.replyTo !== undefined) command.replyTo = frame.replyTo;
      if (frame.mentions !== undefined) command.mentions = frame.mentions;
      return command;
    }
  }
}
