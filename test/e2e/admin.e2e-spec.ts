import { randomUUID } from 'node:crypto';
import { setup } from '../support/context';
import { Frame } from '../support/test-client';
import { autoDeliverAck, sendAndAck, sendMany, waitFor, within } from '../support/helpers';

const errorBody = (status: number) => ({
  statusCode: status,
  error: expect.any(String),
  message: expect.anything(),
});

/** The admin REST API (docs/protocol.md §5). */
describe('admin REST API', () => {
  const ctx = setup();

  it('needs the admin token: 401 without or with a bad one, 403 with a user token', async () => {
    const user = await ctx.newUser('u');
    const calls: [string, string, unknown?][] = [
      ['GET', `/admin/users/${user.id}`],
      ['POST', '/admin/users', { displayName: 'x' }],
      ['POST', '/admin/conversations', { type: 'group', memberIds: [user.id] }],
      ['GET', `/admin/users/${user.id}/sessions`],
      ['POST', '/admin/broadcasts', { userIds: [user.id], body: { text: 'x' } }],
    ];
    for (const [method, path, body] of calls) {
      const none = await ctx.admin(method, path, body, null);
      expect({ method, path, status: none.status, body: none.body }).toEqual({
        method,
        path,
        status: 401,
        body: errorBody(401),
      });
      const bad = await ctx.admin(method, path, body, 'not-the-admin-token');
      expect({ method, path, status: bad.status }).toEqual({ method, path, status: 401 });
      const asUser = await ctx.admin(method, path, body, user.token);
      expect({ method, path, status: asUser.status, body: asUser.body }).toEqual({
        method,
        path,
        status: 403,
        body: errorBody(403),
      });
    }
  });

  it('creates users (201, then 409 on the same id), gets them (200, 404) and issues tokens', async () => {
    const id = `user-${randomUUID().slice(0, 8)}`;
    const created = await ctx.admin('POST', '/admin/users', { id, displayName: 'Ada' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id, displayName: 'Ada', createdAt: expect.any(String) });
    expect(Number.isNaN(Date.parse(created.body.createdAt))).toBe(false);

    const conflict = await ctx.admin('POST', '/admin/users', { id, displayName: 'Other' });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual(errorBody(409));

    const anonymous = await ctx.admin('POST', '/admin/users', {});
    expect(anonymous.status).toBe(201);
    expect(typeof anonymous.body.id).toBe('string');
    expect(anonymous.body.id).not.toBe(id);

    const got = await ctx.admin('GET', `/admin/users/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    const missing = await ctx.admin('GET', `/admin/users/nobody-${randomUUID().slice(0, 8)}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(errorBody(404));

    const issued = await ctx.admin('POST', `/admin/users/${id}/tokens`, { ttlSeconds: 3600 });
    expect(issued.status).toBe(201);
    expect(issued.body).toEqual({ token: expect.any(String), expiresAt: expect.any(String) });
    const client = await ctx.connect({ id, token: issued.body.token });
    expect(client.frames[0]).toMatchObject({ type: 'welcome', userId: id });
  });

  it('creates conversations: a direct pair once (201, then 200 with the same id), groups, members, lastSeq', async () => {
    const [u1, u2, u3] = [await ctx.newUser('u1'), await ctx.newUser('u2'), await ctx.newUser('u3')];
    const direct = await ctx.admin('POST', '/admin/conversations', {
      type: 'direct',
      memberIds: [u1.id, u2.id],
    });
    expect(direct.status).toBe(201);
    expect(direct.body).toMatchObject({
      id: expect.any(String),
      type: 'direct',
      memberIds: expect.any(Array),
    });
    expect(direct.body).toHaveProperty('title');
    expect([...direct.body.memberIds].sort()).toEqual([u1.id, u2.id].sort());

    const again = await ctx.admin('POST', '/admin/conversations', {
      type: 'direct',
      memberIds: [u2.id, u1.id],
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(direct.body.id);

    const three = await ctx.admin('POST', '/admin/conversations', {
      type: 'direct',
      memberIds: [u1.id, u2.id, u3.id],
    });
    expect(three.status).toBe(400);

    const group = await ctx.admin('POST', '/admin/conversations', {
      type: 'group',
      memberIds: [u1.id, u2.id],
      title: 'team',
    });
    expect(group.status).toBe(201);
    expect(group.body).toMatchObject({ type: 'group', title: 'team' });
    expect([...group.body.memberIds].sort()).toEqual([u1.id, u2.id].sort());

    const empty = await ctx.admin('GET', `/admin/conversations/${group.body.id}`);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({
      ...group.body,
      memberIds: expect.any(Array),
      lastSeq: 0,
      retentionDays: null,
    });

    // Added members can post at once.
    const c3 = await ctx.connect(u3, { gateway: 1 });
    const added = await ctx.admin('POST', `/admin/conversations/${group.body.id}/members`, {
      userIds: [u3.id],
    });
    expect(added.status).toBe(200);
    expect([...added.body.memberIds].sort()).toEqual([u1.id, u2.id, u3.id].sort());
    const ack = await sendAndAck(c3, group.body.id, 'I am in');

    const withMessages = await ctx.admin('GET', `/admin/conversations/${group.body.id}`);
    expect(withMessages.body.lastSeq).toBe(ack.seq);
    const notFound = await ctx.admin('GET', `/admin/conversations/none-${randomUUID().slice(0, 8)}`);
    expect(notFound.status).toBe(404);

    const toDirect = await ctx.admin('POST', `/admin/conversations/${direct.body.id}/members`, {
      userIds: [u3.id],
    });
    expect(toDirect.status).toBeGreaterThanOrEqual(400);
    expect(toDirect.status).toBeLessThan(500);
  });

  it('lists a conversation’s messages with afterSeq and limit, like history', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const acks = await sendMany(a, conversationId, 5, 'adm');
    const seqs = acks.map((ack) => ack.seq as number);

    const page = await ctx.admin(
      'GET',
      `/admin/conversations/${conversationId}/messages?afterSeq=${seqs[0]}&limit=2`,
    );
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ messages: expect.any(Array), hasMore: true });
    expect(page.body.messages.map((m: Frame) => m.seq)).toEqual(seqs.slice(1, 3));
    expect(page.body.messages[0]).toMatchObject({
      conversationId,
      seq: seqs[1],
      messageId: acks[1].messageId,
      senderId: alice.id,
      clientMsgId: acks[1].clientMsgId,
      contentType: 'text',
      body: { text: 'adm-1' },
      sentAt: acks[1].sentAt,
    });
    const rest = await ctx.admin(
      'GET',
      `/admin/conversations/${conversationId}/messages?afterSeq=${seqs[2]}&limit=2`,
    );
    expect(rest.body.messages.map((m: Frame) => m.seq)).toEqual(seqs.slice(3));
    expect(rest.body.hasMore).toBe(false);
    const all = await ctx.admin('GET', `/admin/conversations/${conversationId}/messages`);
    expect(all.body.messages.map((m: Frame) => m.seq)).toEqual(seqs);
  });

  it('posts system messages: 201 with ack fields, idempotent, pushed as contentType system from `system`', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });
    const body = { text: 'maintenance at noon' };

    const posted = await ctx.admin('POST', `/admin/conversations/${conversationId}/messages`, {
      clientMsgId: 'sys-1',
      body,
    });
    expect(posted.status).toBe(201);
    expect(posted.body).toEqual({
      clientMsgId: 'sys-1',
      conversationId,
      seq: expect.any(Number),
      messageId: expect.any(String),
      sentAt: expect.any(Number),
    });
    const repeat = await ctx.admin('POST', `/admin/conversations/${conversationId}/messages`, {
      clientMsgId: 'sys-1',
      body,
    });
    expect(repeat.status).toBeGreaterThanOrEqual(200);
    expect(repeat.status).toBeLessThan(300);
    expect(repeat.body).toEqual(posted.body);

    for (const member of [a, b]) {
      const pushed = await member.next((f) => f.type === 'message' && f.messageId === posted.body.messageId);
      expect(pushed).toEqual({
        type: 'message',
        conversationId,
        seq: posted.body.seq,
        messageId: posted.body.messageId,
        senderId: 'system',
        clientMsgId: 'sys-1',
        contentType: 'system',
        body,
        sentAt: posted.body.sentAt,
      });
    }
    const listed = await ctx.admin('GET', `/admin/conversations/${conversationId}/messages`);
    expect(listed.body.messages.map((m: Frame) => m.messageId)).toEqual([posted.body.messageId]);

    const nowhere = await ctx.admin(
      'POST',
      `/admin/conversations/none-${randomUUID().slice(0, 8)}/messages`,
      {
        clientMsgId: 'sys-2',
        body,
      },
    );
    expect(nowhere.status).toBe(404);
  });

  it('shows a message with every member’s delivered and read cursor', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob, { gateway: 1 });
    autoDeliverAck(b);
    const [first, second] = await sendMany(a, conversationId, 2, 'cur');
    b.sendRaw({ type: 'read', conversationId, seq: first.seq });

    const view = await waitFor(async () => {
      const res = await ctx.admin('GET', `/admin/messages/${second.messageId}`);
      const bobs = res.body?.members?.find((m: { userId: string }) => m.userId === bob.id);
      return bobs?.deliveredSeq === second.seq && bobs?.readSeq === first.seq && res;
    }, 'bob’s cursors in the admin view');
    expect(view.status).toBe(200);
    expect(view.body).toEqual({
      type: 'message',
      conversationId,
      seq: second.seq,
      messageId: second.messageId,
      senderId: alice.id,
      clientMsgId: second.clientMsgId,
      contentType: 'text',
      body: { text: 'cur-1' },
      sentAt: second.sentAt,
      members: expect.any(Array),
    });
    expect([...view.body.members].sort((x: Frame, y: Frame) => (x.userId < y.userId ? -1 : 1))).toEqual(
      [
        { userId: alice.id, deliveredSeq: 0, readSeq: 0 },
        { userId: bob.id, deliveredSeq: second.seq, readSeq: first.seq },
      ].sort((x, y) => (x.userId < y.userId ? -1 : 1)),
    );
    const missing = await ctx.admin('GET', `/admin/messages/${randomUUID()}`);
    expect(missing.status).toBe(404);
  });

  it('lists a user’s sessions and closes them all with 4401', async () => {
    const alice = await ctx.newUser('alice');
    const phone = await ctx.connect(alice, { deviceId: 'phone', gateway: 0 });
    const laptop = await ctx.connect(alice, { deviceId: 'laptop', gateway: 1 });

    const sessions = await ctx.admin('GET', `/admin/users/${alice.id}/sessions`);
    expect(sessions.status).toBe(200);
    expect([...sessions.body].sort((x: Frame, y: Frame) => (x.deviceId < y.deviceId ? -1 : 1))).toEqual([
      { deviceId: 'laptop', connectedAt: expect.anything() },
      { deviceId: 'phone', connectedAt: expect.anything() },
    ]);

    const closed = await ctx.admin('DELETE', `/admin/users/${alice.id}/sessions`);
    expect(closed.status).toBe(204);
    expect(await within(phone.waitClosed(), 10_000, 'the phone to be closed')).toBe(4401);
    expect(await within(laptop.waitClosed(), 10_000, 'the laptop to be closed')).toBe(4401);
    await waitFor(async () => {
      const after = await ctx.admin('GET', `/admin/users/${alice.id}/sessions`);
      return after.status === 200 && after.body.length === 0;
    }, 'no sessions left');

    expect((await ctx.admin('GET', `/admin/users/nobody-${randomUUID().slice(0, 8)}/sessions`)).status).toBe(
      404,
    );
  });

  it('broadcasts a system message to each user’s direct conversation with `system`, and reports progress until done', async () => {
    const [u1, u2] = [await ctx.newUser('b1'), await ctx.newUser('b2')];
    const c1 = await ctx.connect(u1, { gateway: 1 });
    const body = { text: `broadcast ${randomUUID().slice(0, 8)}` };
    const started = await ctx.admin('POST', '/admin/broadcasts', { userIds: [u1.id, u2.id], body });
    expect(started.status).toBe(202);
    expect(started.body).toEqual({ id: expect.any(String) });

    const done = await waitFor(
      async () => {
        const res = await ctx.admin('GET', `/admin/broadcasts/${started.body.id}`);
        expect(res.status).toBe(200);
        expect(['running', 'done']).toContain(res.body.state);
        return res.body.state === 'done' && res.body;
      },
      'the broadcast to finish',
      20_000,
    );
    expect(done).toEqual({ id: started.body.id, state: 'done', total: 2, sent: 2, failed: 0 });

    const pushed = await c1.next((f) => f.type === 'message' && f.contentType === 'system');
    expect(pushed).toMatchObject({ senderId: 'system', contentType: 'system', body });
    const list = await c1.request({ type: 'conversations' });
    const withSystem = (list.conversations as Frame[]).find(
      (c) => c.conversationId === pushed.conversationId,
    );
    expect(withSystem).toMatchObject({ type: 'direct', lastMessage: { messageId: pushed.messageId, body } });

    // The offline user finds it by sync.
    const c2 = await ctx.connect(u2);
    const synced = await c2.request({ type: 'sync' });
    expect(synced.messages).toEqual([
      expect.objectContaining({ senderId: 'system', contentType: 'system', body }),
    ]);

    expect((await ctx.admin('GET', `/admin/broadcasts/${randomUUID()}`)).status).toBe(404);
  });

  it('serves the OpenAPI description at /admin/docs', async () => {
    const res = await fetch(`${ctx.gateway(0)}/admin/docs`, {
      headers: { Authorization: `Bearer ${ctx.stack.adminToken}` },
    });
    expect(res.status).toBe(200);
  });
});
