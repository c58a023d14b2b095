import { messageFrame, type MessageView } from './server-frames';

describe('messageFrame', () => {
  const view: MessageView = {
    conversationId: 'c1',
    seq: 7,
    messageId: 'm7',
    senderId: 'alice',
    clientMsgId: 'x7',
    contentType: 'text',
    body: { text: 'hi' },
    sentAt: 1_700_000_000_000,
  };

  it('tags the view as a message frame and carries every field unchanged', () => {
    expect(messageFrame(view)).toStrictEqual({ type: 'message', ...view });
  });

  it('carries the recalled marker of a recalled message, and adds none to another', () => {
    const recalled: MessageView = { ...view, body: {}, recalled: true };
    expect(messageFrame(recalled)).toStrictEqual({ type: 'message', ...recalled });
    expect(messageFrame(view)).not.toHaveProperty('recalled');
  });

  it('builds a new object and does not tag the view it was given', () => {
    const frame = messageFrame(view);
    expect(frame).not.toBe(view);
    expect(view).not.toHaveProperty('type');
  });
});
