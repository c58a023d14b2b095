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

  it('carries a send’s replyTo and mentions, and adds neither when the send had none', () => {
    expect(sendCommandOf({ ...send, replyTo: 7, mentions: ['u2', 'u3'] })).toMatchObject({
      replyTo: 7,
      mentions: ['u2', 'u3'],
    });
    expect(Object.keys(sendCommandOf(send))).not.toEqual(expect.arrayContaining(['replyTo']));
    expect(Object.keys(sendCommandOf(send))).not.toEqual(expect.arrayContaining(['mentions']));
  });

  it('turns an edit into a control message whose body names the target and holds the new body', () => {
    const edit: ClientFrameMap['edit'] = {
      type: 'edit',
      clientMsgId: 'e1',
      conversationId: 'c1',
      targetSeq: 3,
      body: { text: 'fixed' },
    };
    expect(sendCommandOf(edit)).toEqual({
      conversationId: 'c1',
      clientMsgId: 'e1',
      contentType: 'edit',
      body: { targetSeq: 3, body: { text: 'fixed' } },
    });
  });

  it('turns a react into a reaction message with the emoji and the op', () => {
    const react: ClientFrameMap['react'] = {
      type: 'react',
      clientMsgId: 'r1',
      conversationId: 'c1',
      targetSeq: 3,
      emoji: '👍',
      op: 'remove',
    };
    expect(sendCommandOf(react)).toEqual({
      conversationId: 'c1',
      clientMsgId: 'r1',
      contentType: 'reaction',
      body: { targetSeq: 3, emoji: '👍', op: 'remove' },
    });
  });
});
