import type { PersistedMessage } from '@im/messaging';
import { offlineNotices } from './offline-notices';

const message = (
  seq: number,
  senderId: string,
  conversationId = 'c1',
  text = `m${seq}`,
): PersistedMessage => ({
  conversationId,
  senderId,
  clientMsgId: `k${seq}`,
  contentType: 'text',
  body: { text },
  origin: null,
  acceptedAt: 1,
  seq,
  messageId: `id${seq}`,
  sentAt: 2,
  retry: false,
  fresh: true,
  storedAt: 3,
});

describe('offlineNotices', () => {
  const membersOf = new Map([
    ['c1', ['alice', 'bob', 'carol']],
    ['c2', ['alice', 'bob']],
  ]);

  it('names the members with no online device, never the sender', () => {
    const online = new Set(['bob']);
    const notices = offlineNotices([message(1, 'alice'), message(2, 'carol')], membersOf, (u) =>
      online.has(u),
    );
    expect(notices.map((n) => [n.seq, n.recipients])).toEqual([
      [1, ['carol']],
      [2, ['alice']],
    ]);
    expect(notices[0]).toEqual({
      messageId: 'id1',
      conversationId: 'c1',
      seq: 1,
      senderId: 'alice',
      contentType: 'text',
      preview: 'm1',
      recipients: ['carol'],
      storedAt: 3,
    });
  });

  it('sends nothing for a message whose members are all online', () => {
    expect(offlineNotices([message(1, 'alice', 'c2')], membersOf, (u) => u === 'bob')).toEqual([]);
  });

  it('tells an offline sender of nothing they wrote, even with everyone else offline too', () => {
    const notices = offlineNotices([message(1, 'alice', 'c2')], membersOf, () => false);
    expect(notices.map((n) => n.recipients)).toEqual([['bob']]);
  });
});
