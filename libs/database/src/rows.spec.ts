import { toMessageView, type MessageRow } from './rows';

/** A messages row as pg returns it (bigint as a string, timestamptz as a Date) to the protocol's view. */
describe('toMessageView', () => {
  const row: MessageRow = {
    conversation_id: 'c1',
    seq: '42',
    message_id: 'm42',
    sender_id: 'alice',
    client_msg_id: 'x42',
    content_type: 'text',
    body: { text: 'hello' },
    recalled: false,
    sent_at: new Date('2024-05-01T12:00:00.250Z'),
    reply_to: null,
    mentions: null,
    edited_at: null,
    reactions: null,
  };

  it('maps every column, the seq to a number and the time to epoch milliseconds', () => {
    expect(toMessageView(row)).toStrictEqual({
      conversationId: 'c1',
      seq: 42,
      messageId: 'm42',
      senderId: 'alice',
      clientMsgId: 'x42',
      contentType: 'text',
      body: { text: 'hello' },
      sentAt: Date.parse('2024-05-01T12:00:00.250Z'),
    });
  });

  it('empties the body of a recalled message and marks it recalled', () => {
    const view = toMessageView({ ...row, recalled: true });
    expect(view.body).toStrictEqual({});
    expect(view.recalled).toBe(true);
    expect(view.seq).toBe(42);
  });

  it('gives a message not recalled no recalled field at all', () => {
    expect(toMessageView(row)).not.toHaveProperty('recalled');
  });

  it('shows a reply, mentions, the newest edit time and the reactions when there are some', () => {
    const reactions = [{ emoji: '👍', count: 2, userIds: ['bob', 'carol'] }];
    const view = toMessageView({
      ...row,
      reply_to: '7',
      mentions: ['bob'],
      edited_at: new Date('2024-05-01T12:05:00.000Z'),
      reactions,
    });
    expect(view).toMatchObject({
      replyTo: 7,
      mentions: ['bob'],
      editedAt: Date.parse('2024-05-01T12:05:00.000Z'),
      reactions,
    });
  });

  it('leaves out reactions when every one was removed', () => {
    expect(toMessageView({ ...row, reactions: [] })).not.toHaveProperty('reactions');
  });

  it('shows a recalled message without its edit time or reactions', () => {
    const view = toMessageView({
      ...row,
      recalled: true,
      edited_at: new Date(),
      reactions: [{ emoji: '👍', count: 1, userIds: ['bob'] }],
    });
    expect(view).not.toHaveProperty('editedAt');
    expect(view).not.toHaveProperty('reactions');
  });
});
