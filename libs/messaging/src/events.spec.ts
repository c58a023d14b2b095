import { isRejected, type PersistedMessage, type RejectedMessage, type TopicEvents } from './events';

/** The persisted topic carries stored messages and rejected sends; fan-out tells them apart. */
describe('isRejected', () => {
  const persisted: PersistedMessage = {
    conversationId: 'c1',
    senderId: 'alice',
    clientMsgId: 'x1',
    contentType: 'text',
    body: { text: 'hi' },
    origin: { gatewayId: 'gw', connId: 'conn-1', deviceId: 'phone' },
    acceptedAt: 1,
    seq: 3,
    messageId: 'm3',
    sentAt: 2,
    retry: false,
    fresh: true,
    storedAt: 3,
  };
  const rejected: { rejected: true } & RejectedMessage = {
    rejected: true,
    conversationId: 'c1',
    clientMsgId: 'x1',
    origin: null,
    code: 'internal',
    message: 'could not store',
  };

  it('recognises a rejected send', () => {
    expect(isRejected(rejected)).toBe(true);
  });

  it('takes a stored message for what it is, even one whose body says rejected', () => {
    expect(isRejected(persisted)).toBe(false);
    expect(isRejected({ ...persisted, body: { rejected: true } })).toBe(false);
  });

  it.each([
    ['false', false],
    ['the string "true"', 'true'],
    ['1', 1],
  ])('does not take a rejected field of %s for a rejection', (_, value) => {
    const event = { ...persisted, rejected: value } as unknown as TopicEvents['persisted'];
    expect(isRejected(event)).toBe(false);
  });
});
