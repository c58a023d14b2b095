import { setup } from '../support/context';

describe('admin REST: pagination and admin recall', () => {
  const ctx = setup();

  it('pages through users and a member’s conversations with after/next', async () => {
    const users = [await ctx.newUser('pg'), await ctx.newUser('pg'), await ctx.newUser('pg')];
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const res = await ctx.admin('GET', `/admin/users?limit=2${after ? `&after=${after}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.users.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.users.map((u: { id: string }) => u.id));
      after = res.body.next;
      if (!after) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const u of users) expect(seen).toContain(u.id);

    const ids = [
      await ctx.newConversation([users[0], users[1]]),
      await ctx.newConversation([users[0], users[2]]),
      await ctx.newConversation(users, 'group'),
    ];
    const first = await ctx.admin('GET', `/admin/conversations?memberId=${users[0].id}&limit=2`);
    const second = await ctx.admin(
      'GET',
      `/admin/conversations?memberId=${users[0].id}&limit=2&after=${first.body.next}`,
    );
    const listed = [...first.body.conversations, ...second.body.conversations].map(
      (c: { id: string }) => c.id,
    );
    expect(listed.sort()).toEqual([...ids].sort());
    expect(second.body.next).toBeNull();
    expect((await ctx.admin('GET', '/admin/users?limit=0')).status).toBe(400);
  });

  it('lets an admin recall any message, and refuses a recall of a missing one with 404', async () => {
    const [a, b] = [await ctx.newUser(), await ctx.newUser()];
    const conversationId = await ctx.newConversation([a, b]);
    const client = await ctx.connect(a);
    const ack = await client.ackOf(client.send(conversationId, 'regrettable'));
    const recall = await ctx.admin('POST', `/admin/conversations/${conversationId}/recall`, {
      clientMsgId: 'admin-recall-1',
      targetSeq: ack.seq,
    });
    expect(recall.status).toBe(201);
    expect(recall.body).toMatchObject({ clientMsgId: 'admin-recall-1', conversationId, seq: ack.seq + 1 });
    const stored = await ctx.admin('GET', `/admin/conversations/${conversationId}/messages?afterSeq=0`);
    expect(stored.body.messages[0]).toMatchObject({ seq: ack.seq, recalled: true, body: {} });
    const missing = await ctx.admin('POST', `/admin/conversations/${conversationId}/recall`, {
      clientMsgId: 'admin-recall-2',
      targetSeq: 999,
    });
    expect(missing.status).toBe(404);
  });
});
