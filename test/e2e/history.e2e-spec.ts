import { setup } from '../support/context';
import { Frame, TestClient } from '../support/test-client';
import { history, sendMany } from '../support/helpers';

/** `history` → `history_result` (docs/protocol.md §3, §4). */
describe('history', () => {
  const ctx = setup();
  let client: TestClient;
  let conversationId: string;
  let acks: Frame[];
  let seqs: number[];

  beforeAll(async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    acks = await sendMany(a, conversationId, 55, 'h');
    seqs = acks.map((ack) => ack.seq as number);
    client = await ctx.connect(bob, { gateway: 1 });
  });

  const seqsOf = (page: Frame) => (page.messages as Frame[]).map((m) => m.seq);

  it('pages forward with afterSeq: the first `limit` messages after it, ascending, hasMore until the end', async () => {
    const first = await client.request({
      type: 'history',
      reqId: 'h-after',
      conversationId,
      afterSeq: 0,
      limit: 20,
    });
    expect(first).toEqual({
      type: 'history_result',
      reqId: 'h-after',
      conversationId,
      messages: expect.any(Array),
      hasMore: true,
    });
    expect(seqsOf(first)).toEqual(seqs.slice(0, 20));
    expect(first.messages[0]).toEqual({
      type: 'message',
      conversationId,
      seq: acks[0].seq,
      messageId: acks[0].messageId,
      senderId: expect.any(String),
      clientMsgId: acks[0].clientMsgId,
      contentType: 'text',
      body: { text: 'h-0' },
      sentAt: acks[0].sentAt,
    });

    const second = await history(client, conversationId, { afterSeq: seqs[19], limit: 20 });
    expect(seqsOf(second)).toEqual(seqs.slice(20, 40));
    expect(second.hasMore).toBe(true);

    const last = await history(client, conversationId, { afterSeq: seqs[39], limit: 20 });
    expect(seqsOf(last)).toEqual(seqs.slice(40));
    expect(last.hasMore).toBe(false);

    const exact = await history(client, conversationId, { afterSeq: seqs[34], limit: 20 });
    expect(seqsOf(exact)).toEqual(seqs.slice(35));
    expect(exact.hasMore).toBe(false);

    const beyond = await history(client, conversationId, { afterSeq: seqs[54] });
    expect(beyond).toMatchObject({ messages: [], hasMore: false });
  });

  it('pages backward with beforeSeq: the last `limit` messages before it, ascending, hasMore until the start', async () => {
    const newest = await history(client, conversationId, { beforeSeq: seqs[54] + 1, limit: 20 });
    expect(seqsOf(newest)).toEqual(seqs.slice(35));
    expect(newest.hasMore).toBe(true);

    const older = await history(client, conversationId, { beforeSeq: seqs[35], limit: 20 });
    expect(seqsOf(older)).toEqual(seqs.slice(15, 35));
    expect(older.hasMore).toBe(true);

    const oldest = await history(client, conversationId, { beforeSeq: seqs[15], limit: 20 });
    expect(seqsOf(oldest)).toEqual(seqs.slice(0, 15));
    expect(oldest.hasMore).toBe(false);

    const exact = await history(client, conversationId, { beforeSeq: seqs[20], limit: 20 });
    expect(seqsOf(exact)).toEqual(seqs.slice(0, 20));
    expect(exact.hasMore).toBe(false);

    const none = await history(client, conversationId, { beforeSeq: seqs[0] });
    expect(none).toMatchObject({ messages: [], hasMore: false });
  });

  it('returns 50 messages by default and at most 200', async () => {
    const byDefault = await history(client, conversationId, { afterSeq: 0 });
    expect(seqsOf(byDefault)).toEqual(seqs.slice(0, 50));
    expect(byDefault.hasMore).toBe(true);

    const backDefault = await history(client, conversationId, { beforeSeq: seqs[54] + 1 });
    expect(seqsOf(backDefault)).toEqual(seqs.slice(5));
    expect(backDefault.hasMore).toBe(true);

    const max = await history(client, conversationId, { afterSeq: 0, limit: 200 });
    expect(seqsOf(max)).toEqual(seqs);
    expect(max.hasMore).toBe(false);

    const over = await client.request({
      type: 'history',
      reqId: 'h-201',
      conversationId,
      afterSeq: 0,
      limit: 201,
    });
    expect(over).toMatchObject({ type: 'error', ref: 'h-201', code: 'bad_request' });
    const zero = await client.request({
      type: 'history',
      reqId: 'h-0',
      conversationId,
      afterSeq: 0,
      limit: 0,
    });
    expect(zero).toMatchObject({ type: 'error', ref: 'h-0', code: 'bad_request' });
  });

  it('needs exactly one of afterSeq and beforeSeq', async () => {
    const both = await client.request({
      type: 'history',
      reqId: 'h-both',
      conversationId,
      afterSeq: 1,
      beforeSeq: 5,
    });
    expect(both).toMatchObject({ type: 'error', ref: 'h-both', code: 'bad_request' });
    const neither = await client.request({ type: 'history', reqId: 'h-neither', conversationId });
    expect(neither).toMatchObject({ type: 'error', ref: 'h-neither', code: 'bad_request' });
  });
});
