import type { ClientFrameMap } from '@im/protocol';
import { sendCommandOf } from './send-message.command';

/** The edge hands the send use case one shape for both frames: a recall is a message too. */
describe('sendCommandOf', () => {
  const send: ClientFrameMap['send'] = {
    type: 'send',
    clientMsgId: 'm1',
    conversationId: 'c1',
    contentType: 'image',
    body: { url: 'https://example.test/a.png', width: 4 },
  };
  const recall: ClientFrameMap['recall'] = {
    type: 'recall',
    clientMsgId: 'm2',
    conversationId: 'c1',
    targetSeq: 42,
  };

  it('takes a send as it is, without the frame type', () => {
    expect(sendCommandOf(send)).toEqual({
      conversationId: 'c1',
      clientMsgId: 'm1',
      contentType: 'image',
      body: { url: 'https://example.test/a.png', width: 4 },
    });
  });

  it('turns a recall into a message of content type recall whose body names the target seq', () => {
    expect(sendCommandOf(recall)).toEqual({
      conversationId: 'c1',
      clientMsgId: 'm2',
      contentType: 'recall',
      body: { targetSeq: 42 },
    });
  });

  it('keeps a recall’s own clientMsgId, so its retries are deduplicated like any send', () => {
    // The recall and the message it recalls are two messages: their ids must not be confused.
    const command = sendCommandOf({ ...recall, clientMsgId: 'recall-of-m1' });
    expect(command.clientMsgId).toBe('recall-of-m1');
    expect(command.body).not.toHaveProperty('clientMsgId');
  });
});
