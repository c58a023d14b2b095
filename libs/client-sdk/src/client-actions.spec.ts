import { MemoryOutboxStorage } from './index';
import {
  answerSync,
  connectReady,
  GatedStorage,
  msg,
  push,
  sends,
  setup,
  type Harness,
} from './spec-harness';
import { flush, type FakeSocket } from './testing';

function ack(socket: FakeSocket, clientMsgId: string, seq: number, sentAt = 5_000 + seq): void {
  socket.receive({ type: 'ack', clientMsgId, conversationId: 'c1', seq, messageId: `c1-m${seq}`, sentAt });
}

/** Ready, holding c1's seq 1: an own message (u1 is the user the fake server welcomes). */
async function withOwnMessage(h: Harness): Promise<FakeSocket> {
  return connectReady(h, [{ messages: [msg(1, 'c1', { senderId: 'u1' })], cursors: { c1: 1 } }]);
}

describe('ChatClient message actions', () => {
  describe('edit()', () => {
    it('stores the edit before it goes on the wire, and applies it to the target once acked', async () => {
      const storage = new GatedStorage();
      const h = setup({ outboxStorage: storage });
      const socket = await withOwnMessage(h);
      const { clientMsgId, acked } = h.client.edit('c1', 1, { text: 'fixed' });
      await flush();
      expect(socket.framesOf('edit')).toEqual([]);
      expect(h.client.outbox()).toMatchObject([{ clientMsgId, state: 'pending', frame: { type: 'edit' } }]);

      storage.open();
      await flush();
      expect(socket.framesOf('edit')).toEqual([
        { type: 'edit', clientMsgId, conversationId: 'c1', targetSeq: 1, body: { text: 'fixed' } },
      ]);
      expect(await storage.load()).toMatchObject([{ clientMsgId, frame: { type: 'edit', targetSeq: 1 } }]);

      ack(socket, clientMsgId, 2, 7_000);
      await expect(acked).resolves.toMatchObject({ seq: 2 });
      await flush();
      expect(await storage.load()).toEqual([]);
      const [target, edit] = await h.client.timeline('c1');
      expect(target).toMatchObject({ seq: 1, body: { text: 'fixed' }, editedAt: 7_000 });
      expect(edit).toMatchObject({
        seq: 2,
        senderId: 'u1',
        clientMsgId,
        contentType: 'edit',
        body: { targetSeq: 1, body: { text: 'fixed' } },
      });
      expect(h.events.updated).toEqual([target]);
      expect(h.events.message.at(-1)).toEqual(edit);
      h.client.close();
    });

    it('fails at once when refused for good, and keeps the entry for retry() like a send', async () => {
      const h = setup();
      const socket = await withOwnMessage(h);
      const { clientMsgId, acked } = h.client.edit('c1', 1, { text: 'too late' });
      await flush();
      socket.receive({ type: 'error', ref: clientMsgId, code: 'forbidden', message: 'edit window over' });
      await expect(acked).rejects.toMatchObject({ code: 'forbidden', ref: clientMsgId });
      expect(h.events.failed.map((f) => f.entry.clientMsgId)).toEqual([clientMsgId]);
      expect(h.client.outbox()).toMatchObject([{ clientMsgId, state: 'failed', frame: { type: 'edit' } }]);
      expect((await h.client.timeline('c1'))[0].body).toEqual({ text: '#1' });
      h.client.close();
    });
  });

  describe('react()', () => {
    it('adds by default and removes on request; the target shows the own reactions once acked', async () => {
      const h = setup();
      const socket = await connectReady(h, [{ messages: [msg(1)], cursors: { c1: 1 } }]);
      const a = h.client.react('c1', 1, '👍');
      const b = h.client.react('c1', 1, '🎉');
      const c = h.client.react('c1', 1, '👍', 'remove');
      await flush();
      expect(socket.framesOf('react')).toEqual([
        {
          type: 'react',
          clientMsgId: a.clientMsgId,
          conversationId: 'c1',
          targetSeq: 1,
          emoji: '👍',
          op: 'add',
        },
        {
          type: 'react',
          clientMsgId: b.clientMsgId,
          conversationId: 'c1',
          targetSeq: 1,
          emoji: '🎉',
          op: 'add',
        },
        {
          type: 'react',
          clientMsgId: c.clientMsgId,
          conversationId: 'c1',
          targetSeq: 1,
          emoji: '👍',
          op: 'remove',
        },
      ]);
      ack(socket, a.clientMsgId, 2);
      await flush();
      expect(h.events.updated.at(-1)?.reactions).toEqual([{ emoji: '👍', count: 1, userIds: ['u1'] }]);
      ack(socket, b.clientMsgId, 3);
      ack(socket, c.clientMsgId, 4);
      await flush();
      const [target, ...controls] = await h.client.timeline('c1');
      expect(target.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: ['u1'] }]);
      expect(controls.map((m) => [m.contentType, m.body])).toEqual([
        ['reaction', { targetSeq: 1, emoji: '👍', op: 'add' }],
        ['reaction', { targetSeq: 1, emoji: '🎉', op: 'add' }],
        ['reaction', { targetSeq: 1, emoji: '👍', op: 'remove' }],
      ]);
      expect(h.events.updated).toHaveLength(3);
      h.client.close();
    });

    it('holds later frames of the conversation behind a refused reaction until it is resent (G3)', async () => {
      const h = setup();
      const socket = await connectReady(h, [{ messages: [msg(1)], cursors: { c1: 1 } }]);
      const r = h.client.react('c1', 1, '👍');
      await flush();
      socket.receive({ type: 'error', ref: r.clientMsgId, code: 'rate_limited', message: 'slow down' });
      const s = h.client.send('c1', { text: 'after' });
      await flush();
      expect(sends(socket)).toEqual([]);
      await h.clock.advance(1_000); // the reaction's first ladder step
      expect(socket.framesOf('react').map((f) => f.clientMsgId)).toEqual([r.clientMsgId, r.clientMsgId]);
      expect(sends(socket).map((f) => f.clientMsgId)).toEqual([s.clientMsgId]);
      h.client.close();
    });
  });

  describe('offline', () => {
    it('keeps edits and reactions made offline, sends them on connect, and resends them unchanged after a reconnect', async () => {
      const storage = new MemoryOutboxStorage();
      const h = setup({ outboxStorage: storage });
      const e = h.client.edit('c1', 1, { text: 'offline edit' });
      const r = h.client.react('c1', 1, '👍');
      await flush();
      expect((await storage.load()).map((x) => [x.clientMsgId, x.frame.type])).toEqual([
        [e.clientMsgId, 'edit'],
        [r.clientMsgId, 'react'],
      ]);

      const socket = await withOwnMessage(h);
      const first = socket.frames().filter((f) => f.type === 'edit' || f.type === 'react');
      expect(first.map((f) => [f.type, f.clientMsgId])).toEqual([
        ['edit', e.clientMsgId],
        ['react', r.clientMsgId],
      ]);

      socket.serverClose(1006);
      await h.clock.advance(250);
      const next = h.net.last;
      next.welcome();
      await flush();
      expect(next.frames().filter((f) => f.type === 'edit' || f.type === 'react')).toEqual(first);
      answerSync(next, { cursors: { c1: 1 } });
      ack(next, e.clientMsgId, 2);
      ack(next, r.clientMsgId, 3);
      await flush();
      expect(h.client.outbox()).toEqual([]);
      expect(await storage.load()).toEqual([]);
      expect((await h.client.timeline('c1'))[0]).toMatchObject({
        body: { text: 'offline edit' },
        reactions: [{ emoji: '👍', count: 1, userIds: ['u1'] }],
      });
      h.client.close();
    });

    it('after a restart, a new client over the same storage resends the stored edit and reaction frames', async () => {
      const storage = new MemoryOutboxStorage();
      const first = setup({ outboxStorage: storage });
      const e = first.client.edit('c1', 1, { text: 'x' });
      const r = first.client.react('c1', 1, '🎉', 'remove');
      await flush();
      first.client.close();

      const second = setup({ outboxStorage: storage });
      const socket = await connectReady(second);
      expect(socket.frames().filter((f) => f.type === 'edit' || f.type === 'react')).toEqual([
        { type: 'edit', clientMsgId: e.clientMsgId, conversationId: 'c1', targetSeq: 1, body: { text: 'x' } },
        {
          type: 'react',
          clientMsgId: r.clientMsgId,
          conversationId: 'c1',
          targetSeq: 1,
          emoji: '🎉',
          op: 'remove',
        },
      ]);
      second.client.close();
    });
  });

  describe('send() with replyTo and mentions', () => {
    it('puts them on the frame (repeats dropped, an empty list left out) and on the stored own message', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const a = h.client.send('c1', { text: 're' }, 'text', {
        replyTo: 7,
        mentions: ['bob', 'carol', 'bob'],
      });
      const b = h.client.send('c1', { url: 'x' }, 'image', { mentions: [] });
      const c = h.client.send('c1', { text: 'plain' });
      await flush();
      expect(sends(socket)).toEqual([
        {
          type: 'send',
          clientMsgId: a.clientMsgId,
          conversationId: 'c1',
          contentType: 'text',
          body: { text: 're' },
          replyTo: 7,
          mentions: ['bob', 'carol'],
        },
        {
          type: 'send',
          clientMsgId: b.clientMsgId,
          conversationId: 'c1',
          contentType: 'image',
          body: { url: 'x' },
        },
        {
          type: 'send',
          clientMsgId: c.clientMsgId,
          conversationId: 'c1',
          contentType: 'text',
          body: { text: 'plain' },
        },
      ]);
      ack(socket, a.clientMsgId, 1);
      await flush();
      expect((await h.client.timeline('c1'))[0]).toMatchObject({
        seq: 1,
        replyTo: 7,
        mentions: ['bob', 'carol'],
      });
      h.client.close();
    });
  });

  describe('hide()', () => {
    it('asks the server, removes the message here once answered, and drops a late push of it', async () => {
      const h = setup();
      const socket = await connectReady(h, [{ messages: [msg(1), msg(2), msg(3)], cursors: { c1: 3 } }]);
      await h.clock.advance(50);
      const hidden = h.client.hide('c1', 2);
      await flush();
      const request = socket.last('hide');
      expect(request).toEqual({ type: 'hide', reqId: expect.any(String), conversationId: 'c1', seq: 2 });
      expect((await h.client.timeline('c1')).map((m) => m.seq)).toEqual([1, 2, 3]);

      socket.receive({ type: 'hide_result', reqId: request.reqId, conversationId: 'c1', seq: 2 });
      await expect(hidden).resolves.toBeUndefined();
      expect((await h.client.timeline('c1')).map((m) => m.seq)).toEqual([1, 3]);
      expect(h.events.hidden).toEqual([{ conversationId: 'c1', seq: 2 }]);

      const acks = socket.framesOf('deliver_ack').length;
      push(socket, msg(2)); // a re-push already on its way
      await h.clock.advance(50);
      expect((await h.client.timeline('c1')).map((m) => m.seq)).toEqual([1, 3]);
      expect(h.events.message.map((m) => m.seq)).toEqual([1, 2, 3]);
      // The seq is still covered: the server hears the deliver_ack again and stops pushing.
      expect(socket.framesOf('deliver_ack').slice(acks)).toEqual([
        { type: 'deliver_ack', conversationId: 'c1', seq: 3 },
      ]);
      h.client.close();
    });

    it('rejects when refused and keeps the message', async () => {
      const h = setup();
      const socket = await connectReady(h, [{ messages: [msg(1)], cursors: { c1: 1 } }]);
      const hidden = h.client.hide('c1', 1);
      await flush();
      socket.receive({ type: 'error', ref: socket.last('hide').reqId, code: 'forbidden', message: 'no' });
      await expect(hidden).rejects.toMatchObject({ code: 'forbidden' });
      expect(await h.client.timeline('c1')).toHaveLength(1);
      expect(h.events.hidden).toEqual([]);
      h.client.close();
    });
  });
});
