import type { ClientFrameMap } from '@im/protocol';

/** A client's `send` or `recall`, as the send use case takes it. */
export interface SendMessageCommand {
  conversationId: string;
  clientMsgId: string;
  contentType: string;
  body: Record<string, unknown>;
}

/** A recall is a message of content type `recall` whose body names its target. */
export function sendCommandOf(frame: ClientFrameMap['send'] | ClientFrameMap['recall']): SendMessageCommand {
  return frame.type === 'recall'
    ? {
        conversationId: frame.conversationId,
        clientMsgId: frame.clientMsgId,
        contentType: 'recall',
        body: { targetSeq: frame.targetSeq },
      }
    : {
        conversationId: frame.conversationId,
        clientMsgId: frame.clientMsgId,
        contentType: frame.contentType,
        body: frame.body,
      };
}
