import type {
  ConversationListRepository,
  ConversationsRepository,
  EpochRepository,
  Membership,
  MessagePage,
  MessagesRepository,
  ReceiptsRepository,
} from '@im/database';
import type { MessageView, SyncFrame } from '@im/protocol';
import type { MembershipService } from '@im/realtime';
import { QueriesService } from './queries.service';

/**
 * sync over conversations whose low seqs retention deleted: the pages cover every stored
 * message once, cursors move past the gaps, and hasMore is true only when a row waits.
 */
describe('QueriesService.sync over seq gaps', () => {
  const message = (conversationId: string, seq: number): MessageView => ({
    conversationId,
    seq,
    messageId: `${conversationId}-${seq}`,
    senderId: 'alice',
    clientMsgId: `x${seq}`,
    contentType: 'text',
    body: { text: String(seq) },
    sentAt: 0,
  });

  function setup(stored: Record<string, number[]>, lastSeq: Record<string, number>) {
    const memberships: Membership[] = Object.keys(lastSeq)
      .sort()
      .map((conversationId) => ({ conversationId, lastSeq: lastSeq[conversationId], deliveredSeq: 0 }));
    const conversations = {
      membershipsForDevice: async () => memberships,
    } as unknown as ConversationsRepository;
    // As the repository does it: one row more than `limit` tells hasMore.
    const messages = {
      after: async (c: string, afterSeq: number, limit: number): Promise<MessagePage> => {
        const rows = (stored[c] ?? []).filter((s) => s > afterSeq).slice(0, limit + 1);
        return { messages: rows.slice(0, limit).map((s) => message(c, s)), hasMore: rows.length > limit };
      },
    } as unknown as MessagesRepository;
    const epochs = { current: async () => 'e1' } as unknown as EpochRepository;
    return new QueriesService(
      conversations,
      messages,
      {} as MembershipService,
      {} as ReceiptsRepository,
      {} as ConversationListRepository,
      epochs,
    );
  }

  const frame = (cursors: Record<string, number> | undefined, limit: number): SyncFrame => ({
    type: 'sync',
    reqId: 'r',
    cursors,
    limit,
  });

  async function drain(service: QueriesService, limit: number) {
    const seen: string[] = [];
    let cursors: Record<string, number> | undefined;
    for (let pages = 1; pages <= 50; pages++) {
      const page = await service.sync('bob', 'phone', frame(cursors, limit));
      seen.push(...page.messages.map((m) => `${m.conversationId}#${m.seq}`));
      cursors = page.cursors;
      if (!page.hasMore) return { seen, pages, cursors };
      expect(page.messages).toHaveLength(limit);
    }
    throw new Error('sync did not end');
  }

  it('covers every remaining message exactly once when low seqs are gone', async () => {
    const service = setup({ a: [8, 9, 10, 11, 12], b: [3, 4] }, { a: 12, b: 4 });
    const { seen, cursors } = await drain(service, 2);
    expect(seen).toEqual(['a#8', 'a#9', 'a#10', 'a#11', 'a#12', 'b#3', 'b#4']);
    expect(cursors).toEqual({ a: 12, b: 4 });
  });

  it('says hasMore only when a row waits, not because a conversation’s lastSeq is above the cursor', async () => {
    // b's messages were all deleted: lastSeq stays 9, nothing is stored.
    const service = setup({ a: [1, 2], b: [] }, { a: 2, b: 9 });
    const page = await service.sync('bob', 'phone', frame(undefined, 2));
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(page.hasMore).toBe(false);
    expect(page.cursors).toEqual({ a: 2, b: 0 });
  });

  it('still says hasMore when a full page leaves a stored row in a later conversation', async () => {
    const service = setup({ a: [1, 2], b: [], c: [5] }, { a: 2, b: 9, c: 5 });
    const first = await service.sync('bob', 'phone', frame(undefined, 2));
    expect(first.hasMore).toBe(true);
    const second = await service.sync('bob', 'phone', frame(first.cursors, 2));
    expect(second.messages.map((m) => `${m.conversationId}#${m.seq}`)).toEqual(['c#5']);
    expect(second.hasMore).toBe(false);
  });
});
