import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError, MemoryMessageStore, MemoryOutboxStorage, type OutboxStorage } from './index';
import { FileOutboxStorage } from './node';
import {
  answerHistory,
  answerSync,
  connectReady,
  GatedStorage,
  msg,
  push,
  sends,
  setup,
} from './spec-harness';
import { flush } from './testing';

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('ChatClient', () => {
  describe('connecting and syncing', () => {
    it('connects to baseUrl/ws with token and deviceId, syncs until hasMore is false, then is ready', async () => {
      const h = setup();
      const connected = h.client.connect();
      await flush();
      const socket = h.net.last;
      expect(socket.url).toBe('ws://gw:3000/ws?token=t0&deviceId=d1');
      expect(h.events.state).toEqual(['connecting']);

      socket.welcome();
      await flush();
      expect(h.client.state).toBe('syncing');
      expect(h.client.userId).toBe('u1');
      expect(socket.last('sync')).toEqual({ type: 'sync', reqId: expect.any(String), limit: 200 });

      answerSync(socket, { messages: [msg(1), msg(2)], cursors: { c1: 2, c2: 0 }, hasMore: true });
      await flush();
      expect(h.client.state).toBe('syncing');
      expect(socket.framesOf('sync')).toHaveLength(2);
      expect(socket.last('sync').cursors).toEqual({ c1: 2, c2: 0 });

      answerSync(socket, { messages: [msg(1, 'c2')], cursors: { c1: 2, c2: 1 } });
      await flush();
      await connected;
      expect(h.events.state).toEqual(['connecting', 'syncing', 'ready']);
      expect((await h.client.timeline('c1')).map((m) => m.seq)).toEqual([1, 2]);
      expect(h.events.message).toHaveLength(3);

      await h.clock.advance(50);
      expect(socket.framesOf('deliver_ack')).toEqual([
        { type: 'deliver_ack', conversationId: 'c1', seq: 2 },
        { type: 'deliver_ack', conversationId: 'c2', seq: 1 },
      ]);
      h.client.close();
    });

    it('syncs again after a reconnect, from the contiguous cursors it stored', async () => {
      const h = setup();
      const socket = await connectReady(h, [{ messages: [msg(1), msg(2)], cursors: { c1: 2, c2: 0 } }]);
      push(socket, msg(3));
      await flush();

      socket.serverClose(1006);
      await flush();
      expect(h.client.state).toBe('offline');
      await h.clock.advance(250); // random 0.5 × 500 ms
      expect(h.net.sockets).toHaveLength(2);
      h.net.last.welcome();
      await flush();
      expect(h.net.last.last('sync').cursors).toEqual({ c1: 3, c2: 0 });
      h.client.close();
    });

    it("starts a conversation it does not know from the server's delivered cursor, without acking it back", async () => {
      const h = setup();
      const socket = await connectReady(h, [{ cursors: { big: 9_000 } }]);
      push(socket, msg(9_001, 'big'));
      await h.clock.advance(50);
      expect(socket.framesOf('history')).toEqual([]);
      expect(socket.framesOf('deliver_ack')).toEqual([
        { type: 'deliver_ack', conversationId: 'big', seq: 9_001 },
      ]);
      h.client.close();
    });

    it('drops the cursor of a conversation the user has left when sync is forbidden', async () => {
      const store = new MemoryMessageStore();
      await store.setCursor('c1', 3);
      await store.setCursor('gone', 5);
      const h = setup({ messageStore: store });
      const connected = h.client.connect();
      await flush();
      const socket = h.net.last;
      socket.welcome();
      await flush();
      const first = socket.last('sync');
      expect(first.cursors).toEqual({ c1: 3, gone: 5 });
      socket.receive({ type: 'error', ref: first.reqId, code: 'forbidden', message: 'not a member of gone' });
      await flush();
      const list = socket.last('conversations');
      socket.receive({
        type: 'conversations_result',
        reqId: list.reqId,
        conversations: [
          {
            conversationId: 'c1',
            type: 'group',
            title: null,
            lastSeq: 3,
            readSeq: 0,
            unread: 0,
            lastMessage: null,
          },
        ],
      });
      await flush();
      expect(socket.last('sync').cursors).toEqual({ c1: 3 });
      answerSync(socket, { cursors: { c1: 3 } });
      await flush();
      await connected;
      expect(h.client.state).toBe('ready');
      h.client.close();
    });

    it('sends ping every heartbeatMs/2 and drops a connection that went silent', async () => {
      const h = setup();
      const socket = await connectReady(h);
      await h.clock.advance(12_500);
      expect(socket.framesOf('ping')).toHaveLength(1);
      await h.clock.advance(12_500);
      expect(socket.framesOf('ping')).toHaveLength(2);

      socket.autoPong = false;
      await h.clock.advance(40_000);
      expect(socket.closedWith?.code).toBe(4000);
      expect(h.net.sockets.length).toBeGreaterThan(1);
      h.client.close();
    });
  });

  describe('reconnecting', () => {
    it('retries a sync the server could not answer on the same connection, then becomes ready', async () => {
      const h = setup({ random: () => 0.999 });
      await h.client.connect();
      await flush();
      const socket = h.net.last;
      socket.welcome();
      await flush();
      for (const delay of [500, 1_000, 2_000]) {
        socket.receive({
          type: 'error',
          ref: socket.last('sync').reqId,
          code: 'unavailable',
          message: 'db down',
        });
        await flush();
        expect(socket.closedWith).toBeUndefined();
        expect(h.client.state).toBe('syncing');
        const syncs = socket.framesOf('sync').length;
        await h.clock.advance(delay);
        expect(socket.framesOf('sync').length).toBe(syncs + 1);
      }
      socket.receive({
        type: 'sync_result',
        reqId: socket.last('sync').reqId,
        messages: [],
        cursors: {},
        hasMore: false,
      });
      await flush();
      expect(h.client.state).toBe('ready');
      expect(h.net.sockets).toHaveLength(1);
      expect(h.events.error.map((e) => e.code)).toEqual(['unavailable', 'unavailable', 'unavailable']);
      h.client.close();
    });

    it('drops a connection whose sync keeps failing or is refused for good, and backs off before the next', async () => {
      const h = setup({ random: () => 0.999 });
      await h.client.connect();
      await flush();
      for (const delay of [499, 999, 1_998]) {
        const socket = h.net.last;
        socket.welcome();
        await flush();
        socket.receive({ type: 'error', ref: socket.last('sync').reqId, code: 'bad_request', message: 'no' });
        await flush();
        expect(socket.closedWith?.code).toBe(4000);
        expect(h.client.state).toBe('offline');
        await h.clock.advance(delay);
        expect(h.client.state).toBe('connecting');
      }
      expect(h.events.error.map((e) => e.code)).toEqual(['bad_request', 'bad_request', 'bad_request']);
      h.client.close();
    });

    it('backs off exponentially with full jitter and resets once connected and synced', async () => {
      const h = setup({ random: () => 0.999 });
      await h.client.connect();
      await flush();
      const expectNextAfter = async (ms: number) => {
        const before = h.net.sockets.length;
        h.net.last.serverClose(1006);
        await h.clock.advance(ms - 1);
        expect(h.net.sockets).toHaveLength(before);
        await h.clock.advance(1);
        expect(h.net.sockets).toHaveLength(before + 1);
      };
      await expectNextAfter(499); // ceiling 500
      await expectNextAfter(999); // 1 000
      await expectNextAfter(1_998); // 2 000
      await expectNextAfter(3_996); // 4 000
      h.net.last.welcome();
      await flush();
      await expectNextAfter(7_992); // welcomed but never synced: not a success yet
      h.net.last.welcome();
      await flush();
      answerSync(h.net.last);
      await flush();
      expect(h.client.state).toBe('ready');
      await expectNextAfter(499); // reset
      h.client.close();
    });

    it('never waits longer than the cap', async () => {
      const h = setup({ random: () => 0.999, reconnectCapMs: 3_000 });
      await h.client.connect();
      await flush();
      for (let i = 0; i < 8; i++) {
        const before = h.net.sockets.length;
        h.net.last.serverClose(1006);
        await h.clock.advance(3_000);
        expect(h.net.sockets).toHaveLength(before + 1);
      }
      h.client.close();
    });

    it('does not reconnect after 4409 (replaced) and reports it', async () => {
      const h = setup();
      const socket = await connectReady(h);
      socket.serverClose(4409, 'replaced');
      await h.clock.advance(5 * 60_000);
      expect(h.net.sockets).toHaveLength(1);
      expect(h.client.state).toBe('offline');
      expect(h.events.error.map((e) => e.code)).toEqual(['replaced']);
      expect(h.events.error[0]).toBeInstanceOf(ClientError);
      await expect(h.client.conversations()).rejects.toMatchObject({ code: 'closed' });

      await h.client.connect(); // the app may take over again
      await flush();
      expect(h.net.sockets).toHaveLength(2);
      h.client.close();
    });

    it('after 4401 asks the tokenProvider for a new token and reconnects', async () => {
      let n = 0;
      const h = setup({ token: undefined, tokenProvider: async () => `t${++n}` });
      const socket = await connectReady(h);
      expect(socket.query.get('token')).toBe('t1');
      socket.serverClose(4401, 'token expired');
      await h.clock.advance(500);
      expect(h.events.error.map((e) => e.code)).toEqual(['unauthorized']);
      expect(h.net.sockets).toHaveLength(2);
      expect(h.net.last.query.get('token')).toBe('t2');
      h.client.close();
    });

    it('after 4401 without a tokenProvider stays offline', async () => {
      const h = setup();
      const socket = await connectReady(h);
      socket.serverClose(4401);
      await h.clock.advance(60_000);
      expect(h.net.sockets).toHaveLength(1);
      expect(h.events.error.map((e) => e.code)).toEqual(['unauthorized']);
      h.client.close();
    });
  });

  describe('the outbox', () => {
    it('stores a message before it goes on the wire, and removes it only when acked', async () => {
      const storage = new GatedStorage();
      const h = setup({ outboxStorage: storage });
      const socket = await connectReady(h);
      const { clientMsgId, acked } = h.client.send('c1', { text: 'hi' });
      await flush();
      expect(sends(socket)).toEqual([]);
      expect(h.client.outbox()).toMatchObject([{ clientMsgId, state: 'pending' }]);

      storage.open();
      await flush();
      expect(sends(socket)).toEqual([
        { type: 'send', clientMsgId, conversationId: 'c1', contentType: 'text', body: { text: 'hi' } },
      ]);
      expect(await storage.load()).toHaveLength(1);

      socket.receive({ type: 'ack', clientMsgId, conversationId: 'c1', seq: 1, messageId: 'm1', sentAt: 5 });
      await expect(acked).resolves.toEqual({
        clientMsgId,
        conversationId: 'c1',
        seq: 1,
        messageId: 'm1',
        sentAt: 5,
      });
      await flush();
      expect(h.events.ack).toHaveLength(1);
      expect(h.client.outbox()).toEqual([]);
      // A listener sees every change as a snapshot (built only when someone listens).
      expect(h.events.outbox[0]).toMatchObject([{ clientMsgId, state: 'pending' }]);
      expect(h.events.outbox.at(-1)).toEqual([]);
      expect(await storage.load()).toEqual([]);
      // The server pushes the message to the sender's other devices only: it is stored from the ack.
      expect(await h.client.timeline('c1')).toEqual([
        {
          conversationId: 'c1',
          seq: 1,
          messageId: 'm1',
          senderId: 'u1',
          clientMsgId,
          contentType: 'text',
          body: { text: 'hi' },
          sentAt: 5,
        },
      ]);
      await h.clock.advance(50);
      expect(socket.last('deliver_ack')).toEqual({ type: 'deliver_ack', conversationId: 'c1', seq: 1 });
      h.client.close();
    });

    it('resends the same frame after 1 s, 3 s, 5 s, then doubling up to 32 s', async () => {
      const h = setup();
      const socket = await connectReady(h);
      h.client.send('c1', { text: 'hi' });
      await flush();
      const at: number[] = [];
      const start = h.clock.now();
      for (let t = 0; t <= 140_000; t += 500) {
        while (at.length < sends(socket).length) at.push(h.clock.now() - start);
        await h.clock.advance(500);
      }
      expect(at).toEqual([0, 1_000, 4_000, 9_000, 19_000, 39_000, 71_000, 103_000, 135_000]);
      expect(new Set(socket.sent.filter((s) => s.includes('"send"'))).size).toBe(1);
      h.client.close();
    });

    it('resends right after every reconnect, before sync has finished', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const { clientMsgId } = h.client.send('c1', { text: 'hi' });
      await flush();
      socket.serverClose(1001);
      await h.clock.advance(250);
      const next = h.net.last;
      next.welcome();
      await flush();
      expect(h.client.state).toBe('syncing');
      expect(sends(next)).toEqual(sends(socket));
      expect(sends(next)[0].clientMsgId).toBe(clientMsgId);
      h.client.close();
    });

    it('after a restart, a new client over the same storage resends the original frames', async () => {
      const storage = new MemoryOutboxStorage();
      const first = setup({ outboxStorage: storage });
      const socket = await connectReady(first);
      const a = first.client.send('c1', { text: 'one' });
      const b = first.client.recall('c1', 7);
      await flush();
      const original = sends(socket).concat(socket.framesOf('recall'));
      first.client.close();
      await expect(a.acked).rejects.toMatchObject({ code: 'closed' });

      const second = setup({ outboxStorage: storage, newId: () => 'fresh' });
      const next = await connectReady(second);
      expect(second.client.outbox().map((e) => e.clientMsgId)).toEqual([a.clientMsgId, b.clientMsgId]);
      expect(next.frames().filter((f) => f.type === 'send' || f.type === 'recall')).toEqual(original);

      for (const [seq, f] of original.entries())
        next.receive({
          type: 'ack',
          clientMsgId: f.clientMsgId,
          conversationId: 'c1',
          seq: seq + 1,
          messageId: 'm',
          sentAt: 1,
        });
      await flush();
      expect(second.events.ack.map((x) => x.clientMsgId)).toEqual([a.clientMsgId, b.clientMsgId]);
      expect(await storage.load()).toEqual([]);
      second.client.close();
    });

    it('recovers from a JSON file after a process restart', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sdk-'));
      try {
        const path = join(dir, 'outbox.json');
        const first = setup({ outboxStorage: new FileOutboxStorage(path) });
        const socket = await connectReady(first);
        const { clientMsgId } = first.client.send('c1', { text: 'durable' });
        await waitFor(() => sends(socket).length === 1, 'the first send');
        first.client.close();

        const second = setup({ outboxStorage: new FileOutboxStorage(path) });
        const connected = second.client.connect();
        await waitFor(() => second.net.sockets.length === 1, 'a socket');
        second.net.last.welcome();
        await waitFor(() => sends(second.net.last).length === 1, 'the resend');
        expect(sends(second.net.last)).toEqual(sends(socket));
        answerSync(second.net.last);
        await connected;
        second.net.last.receive({
          type: 'ack',
          clientMsgId,
          conversationId: 'c1',
          seq: 1,
          messageId: 'm',
          sentAt: 1,
        });
        await waitFor(async () => (await new FileOutboxStorage(path).load()).length === 0, 'the delete');
        second.client.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("fails after the total time, keeps the entry as 'failed', and retry() sends it again", async () => {
      const storage = new MemoryOutboxStorage();
      const h = setup({ outboxStorage: storage });
      const socket = await connectReady(h);
      const { clientMsgId, acked } = h.client.send('c1', { text: 'hi' });
      await flush();
      await h.clock.advance(5 * 60_000 - 1);
      expect(h.events.failed).toEqual([]);
      await h.clock.advance(1);
      expect(h.events.failed).toHaveLength(1);
      expect(h.events.failed[0].entry).toMatchObject({
        clientMsgId,
        state: 'failed',
        error: { code: 'timeout' },
      });
      expect(h.events.failed[0].error).toBeInstanceOf(ClientError);
      await expect(acked).rejects.toMatchObject({ code: 'timeout' });
      expect(h.client.outbox()).toMatchObject([{ clientMsgId, state: 'failed' }]);
      expect(await storage.load()).toMatchObject([{ clientMsgId, state: 'failed' }]);

      const count = sends(socket).length;
      await h.clock.advance(10 * 60_000);
      expect(sends(socket)).toHaveLength(count);

      const retried = h.client.retry(clientMsgId);
      await flush();
      expect(sends(socket)).toHaveLength(count + 1);
      expect(sends(socket)[count]).toEqual(sends(socket)[0]);
      expect(h.client.outbox()).toMatchObject([{ clientMsgId, state: 'pending' }]);
      socket.receive({ type: 'ack', clientMsgId, conversationId: 'c1', seq: 4, messageId: 'm4', sentAt: 9 });
      await expect(retried).resolves.toMatchObject({ seq: 4 });
      expect(h.client.outbox()).toEqual([]);
      await expect(h.client.retry('nope')).rejects.toMatchObject({ code: 'unknown_message' });
      h.client.close();
    });

    it("settles a 'failed' entry when its own message arrives through sync (its acks were lost)", async () => {
      const storage = new MemoryOutboxStorage();
      const h = setup({ outboxStorage: storage });
      const socket = await connectReady(h);
      const { clientMsgId } = h.client.send('c1', { text: 'hi' });
      await flush();
      await h.clock.advance(5 * 60_000);
      expect(h.client.outbox()).toMatchObject([{ clientMsgId, state: 'failed' }]);

      socket.serverClose(1006);
      await flush();
      await h.clock.advance(250);
      const again = h.net.last;
      again.welcome();
      await flush();
      const mine = msg(1, 'c1', { senderId: 'u1', clientMsgId, body: { text: 'hi' } });
      // Another user's message with the same clientMsgId settles nothing.
      const theirs = msg(2, 'c1', { clientMsgId });
      answerSync(again, { messages: [mine, theirs], cursors: { c1: 2 } });
      await flush();
      expect(h.client.outbox()).toEqual([]);
      expect(await storage.load()).toEqual([]);
      expect(h.events.ack).toEqual([
        { clientMsgId, conversationId: 'c1', seq: 1, messageId: mine.messageId, sentAt: mine.sentAt },
      ]);
      expect(h.events.message.map((m) => m.seq)).toEqual([1, 2]);
      // Nothing goes out for it any more.
      const count = sends(again).length;
      await h.clock.advance(60_000);
      expect(sends(again)).toHaveLength(count);
      h.client.close();
    });

    it('settles a pending entry when its own message is pushed, and resends it no more', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const { clientMsgId, acked } = h.client.send('c1', { text: 'hi' });
      await flush();
      push(socket, msg(1, 'c1', { senderId: 'u1', clientMsgId }));
      await expect(acked).resolves.toMatchObject({ seq: 1, clientMsgId });
      expect(h.client.outbox()).toEqual([]);
      const count = sends(socket).length;
      await h.clock.advance(10_000);
      expect(sends(socket)).toHaveLength(count);
      h.client.close();
    });

    it('also counts the total while offline', async () => {
      const h = setup({ failAfterMs: 10_000 });
      const { acked } = h.client.send('c1', { text: 'offline' });
      await h.clock.advance(10_000);
      await expect(acked).rejects.toMatchObject({ code: 'timeout' });
      h.client.close();
    });

    it("fails at once on an error that will not change, and keeps resending on 'unavailable'", async () => {
      const h = setup();
      const socket = await connectReady(h);
      const bad = h.client.send('c1', { text: 'x' });
      const busy = h.client.send('c1', { text: 'y' });
      await flush();
      socket.receive({ type: 'error', ref: bad.clientMsgId, code: 'forbidden', message: 'not a member' });
      socket.receive({ type: 'error', ref: busy.clientMsgId, code: 'unavailable', message: 'retry' });
      await expect(bad.acked).rejects.toMatchObject({ code: 'forbidden', ref: bad.clientMsgId });
      await h.clock.advance(1_000);
      expect(sends(socket).filter((f) => f.clientMsgId === busy.clientMsgId)).toHaveLength(2);
      expect(sends(socket).filter((f) => f.clientMsgId === bad.clientMsgId)).toHaveLength(1);
      expect(h.events.error).toEqual([]);
      h.client.close();
    });

    it('refuses a frame bigger than the server accepts, without storing it', async () => {
      const storage = new MemoryOutboxStorage();
      const h = setup({ outboxStorage: storage, maxFrameBytes: 1_000 });
      const { acked } = h.client.send('c1', { text: 'x'.repeat(1_000) });
      await expect(acked).rejects.toMatchObject({ code: 'too_large' });
      expect(await storage.load()).toEqual([]);
      h.client.close();
    });

    it('handles an ack that comes twice (two resends answered) once', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const { clientMsgId } = h.client.send('c1', { text: 'hi' });
      await h.clock.advance(1_000);
      expect(sends(socket)).toHaveLength(2);
      const ack = { type: 'ack', clientMsgId, conversationId: 'c1', seq: 1, messageId: 'm1', sentAt: 5 };
      socket.receive(ack);
      socket.receive(ack);
      await flush();
      expect(h.events.ack).toHaveLength(1);
      expect(h.events.message).toHaveLength(1);
      h.client.close();
    });

    it('discard() removes a failed entry for good', async () => {
      const storage = new MemoryOutboxStorage();
      const h = setup({ outboxStorage: storage });
      const socket = await connectReady(h);
      const { clientMsgId } = h.client.send('c1', { text: 'x' });
      await flush();
      socket.receive({ type: 'error', ref: clientMsgId, code: 'bad_request', message: 'no' });
      await flush();
      expect(h.client.outbox()).toMatchObject([{ state: 'failed', error: { code: 'bad_request' } }]);
      await h.client.discard(clientMsgId);
      expect(h.client.outbox()).toEqual([]);
      expect(await storage.load()).toEqual([]);
      await expect(h.client.discard(clientMsgId)).rejects.toMatchObject({ code: 'unknown_message' });
      h.client.close();
    });

    it('keeps wire order behind a slow put without leaving a failed later put unhandled', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        let calls = 0;
        let release!: () => void;
        const storage: OutboxStorage = {
          load: async () => [],
          put: () => {
            calls++;
            if (calls === 1) return new Promise<void>((resolve) => (release = resolve));
            if (calls === 2) throw new Error('synchronous failure');
            return Promise.resolve();
          },
          delete: async () => undefined,
        };
        const h = setup({ outboxStorage: storage });
        const socket = await connectReady(h);
        const first = h.client.send('c1', { text: '1' });
        const second = h.client.send('c1', { text: '2' });
        const third = h.client.send('c1', { text: '3' });
        await flush();
        expect(sends(socket)).toEqual([]);
        release();
        await expect(second.acked).rejects.toMatchObject({ code: 'storage' });
        await flush();
        expect(sends(socket).map((f) => f.clientMsgId)).toEqual([first.clientMsgId, third.clientMsgId]);
        expect(unhandled).toEqual([]);
        h.client.close();
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('puts sends on the wire in the order they were made', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const ids = ['a', 'b', 'c', 'd'].map((text) => h.client.send('c1', { text }).clientMsgId);
      await flush();
      expect(sends(socket).map((f) => f.clientMsgId)).toEqual(ids);
      h.client.close();
    });

    it('after a refusal that may pass, resends the refused sends in their order before anything newer (G3)', async () => {
      const h = setup();
      const socket = await connectReady(h);
      // a was sent first; the server refused it, and b and c behind it with the same code.
      const [a, b, c] = ['a', 'b', 'c'].map((text) => h.client.send('c1', { text }).clientMsgId);
      await flush();
      // b's ladder step comes before a's: b went out 400 ms after a.
      await h.clock.advance(400);
      const d = h.client.send('c1', { text: 'd' }).clientMsgId;
      const other = h.client.send('c2', { text: 'other' }).clientMsgId;
      await flush();
      for (const id of [a, b, c, d])
        socket.receive({ type: 'error', ref: id, code: 'unavailable', message: 'retry' });
      await flush();
      const from = sends(socket).length;
      const e = h.client.send('c1', { text: 'e' }).clientMsgId;
      await flush();
      // Nothing of c1 goes out before a's resend, then all in their order; c2 is not held up.
      await h.clock.advance(500);
      expect(
        sends(socket)
          .slice(from)
          .map((f) => f.clientMsgId),
      ).toEqual([]);
      await h.clock.advance(200);
      expect(
        sends(socket)
          .slice(from)
          .map((f) => f.clientMsgId),
      ).toEqual([a, b, c, d, e]);
      socket.receive({ type: 'error', ref: other, code: 'unavailable', message: 'retry' });
      await h.clock.advance(1_000);
      expect(sends(socket).filter((f) => f.clientMsgId === other)).toHaveLength(2);
      h.client.close();
    });

    it('resends a refused send within 2 s, however far its ladder has got', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const a = h.client.send('c1', { text: 'a' }).clientMsgId;
      await flush();
      await h.clock.advance(9_000); // sent at 0, 1 s, 4 s, 9 s: the next ladder step is 10 s away
      expect(sends(socket)).toHaveLength(4);
      socket.receive({ type: 'error', ref: a, code: 'unavailable', message: 'retry' });
      await h.clock.advance(2_000);
      expect(sends(socket)).toHaveLength(5);
      h.client.close();
    });

    it('releases the sends held behind a refused one when its resend is acked', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const a = h.client.send('c1', { text: 'a' }).clientMsgId;
      await flush();
      await h.clock.advance(1_000); // a's first resend is on the wire
      socket.receive({ type: 'error', ref: a, code: 'rate_limited', message: 'slow down' });
      const b = h.client.send('c1', { text: 'b' }).clientMsgId;
      await flush();
      expect(sends(socket).filter((f) => f.clientMsgId === b)).toHaveLength(0);
      socket.receive({
        type: 'ack',
        clientMsgId: a,
        conversationId: 'c1',
        seq: 1,
        messageId: 'm1',
        sentAt: 1,
      });
      await flush();
      expect(sends(socket).filter((f) => f.clientMsgId === b)).toHaveLength(1);
      h.client.close();
    });

    it('reports a storage that cannot store, and does not send', async () => {
      const broken: OutboxStorage = {
        load: async () => [],
        put: async () => {
          throw new Error('disk full');
        },
        delete: async () => undefined,
      };
      const h = setup({ outboxStorage: broken });
      const socket = await connectReady(h);
      const { acked } = h.client.send('c1', { text: 'x' });
      await expect(acked).rejects.toMatchObject({ code: 'storage' });
      expect(sends(socket)).toEqual([]);
      expect(h.client.outbox()).toEqual([]);
      h.client.close();
    });
  });

  describe('receiving', () => {
    it('stores a message pushed twice once (dedupe by conversation and seq)', async () => {
      const h = setup();
      const socket = await connectReady(h, [{ messages: [msg(1)], cursors: { c1: 1 } }]);
      push(socket, msg(1));
      push(socket, msg(2));
      push(socket, msg(2));
      await flush();
      expect((await h.client.timeline('c1')).map((m) => m.seq)).toEqual([1, 2]);
      expect(h.events.message.map((m) => m.seq)).toEqual([1, 2]);
      h.client.close();
    });

    it('orders by seq whatever the arrival order', async () => {
      const h = setup();
      const socket = await connectReady(h);
      for (const seq of [1, 3, 5, 2, 4]) push(socket, msg(seq));
      await flush();
      expect((await h.client.timeline('c1')).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
      h.client.close();
    });

    it('acknowledges the highest contiguous seq, once for a burst', async () => {
      const h = setup({ ackDebounceMs: undefined });
      const socket = await connectReady(h);
      for (const seq of [1, 2]) push(socket, msg(seq));
      await h.clock.advance(100);
      push(socket, msg(3));
      expect(socket.framesOf('deliver_ack')).toEqual([]);
      await h.clock.advance(50);
      // One cumulative ack within the 150 ms the client waits (docs/protocol.md §7 allows 200).
      expect(socket.framesOf('deliver_ack')).toEqual([{ type: 'deliver_ack', conversationId: 'c1', seq: 3 }]);
      push(socket, msg(5)); // a gap: 4 is missing
      await h.clock.advance(150);
      expect(socket.framesOf('deliver_ack')).toHaveLength(1);
      h.client.close();
    });

    it('acknowledges again when the server pushes what it already holds (its deliver_ack was lost)', async () => {
      const h = setup();
      const socket = await connectReady(h);
      for (const seq of [1, 2]) push(socket, msg(seq));
      await h.clock.advance(50);
      expect(socket.framesOf('deliver_ack')).toHaveLength(1);
      push(socket, msg(2)); // a re-push: the server never saw the ack
      await h.clock.advance(50);
      expect(socket.framesOf('deliver_ack')).toEqual([
        { type: 'deliver_ack', conversationId: 'c1', seq: 2 },
        { type: 'deliver_ack', conversationId: 'c1', seq: 2 },
      ]);
      h.client.close();
    });

    it('fills a gap with history after the contiguous seq, then acknowledges past it', async () => {
      const h = setup();
      const socket = await connectReady(h);
      push(socket, msg(1));
      push(socket, msg(5));
      await h.clock.advance(50);
      expect(socket.last('history')).toEqual({
        type: 'history',
        reqId: expect.any(String),
        conversationId: 'c1',
        afterSeq: 1,
        limit: 200,
      });
      answerHistory(socket, [msg(2), msg(3)], true);
      await flush();
      expect(socket.last('history').afterSeq).toBe(3);
      answerHistory(socket, [msg(4), msg(5)]);
      await h.clock.advance(50);
      expect((await h.client.timeline('c1')).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(socket.last('deliver_ack')).toEqual({ type: 'deliver_ack', conversationId: 'c1', seq: 5 });
      expect(socket.framesOf('history')).toHaveLength(2);
      h.client.close();
    });

    it('moves past a seq that history says does not exist', async () => {
      const h = setup();
      const socket = await connectReady(h);
      push(socket, msg(1));
      push(socket, msg(3));
      await flush();
      answerHistory(socket, [msg(3)]);
      push(socket, msg(4));
      await h.clock.advance(50);
      expect(socket.last('deliver_ack')).toEqual({ type: 'deliver_ack', conversationId: 'c1', seq: 4 });
      expect(socket.framesOf('history')).toHaveLength(1);
      h.client.close();
    });

    it('does not ask history while syncing: the sync covers it', async () => {
      const h = setup();
      const connected = h.client.connect();
      await flush();
      const socket = h.net.last;
      socket.welcome();
      await flush();
      push(socket, msg(6));
      await flush();
      answerSync(socket, { messages: [1, 2, 3, 4, 5, 6].map((s) => msg(s)), cursors: { c1: 6 } });
      await connected;
      await h.clock.advance(50);
      expect(socket.framesOf('history')).toEqual([]);
      expect(socket.last('deliver_ack').seq).toBe(6);
      h.client.close();
    });

    it('marks the target of a recall recalled', async () => {
      const h = setup();
      const socket = await connectReady(h);
      push(socket, msg(1));
      push(socket, msg(2, 'c1', { contentType: 'recall', body: { targetSeq: 1 } }));
      await flush();
      const [target, recall] = await h.client.timeline('c1');
      expect(target).toMatchObject({ seq: 1, recalled: true, body: {} });
      expect(recall).toMatchObject({ seq: 2, contentType: 'recall', body: { targetSeq: 1 } });
      h.client.close();
    });

    it('stores an own recall from its ack and marks the target', async () => {
      const h = setup();
      const socket = await connectReady(h, [
        { messages: [msg(1, 'c1', { senderId: 'u1' })], cursors: { c1: 1 } },
      ]);
      const { clientMsgId, acked } = h.client.recall('c1', 1);
      await flush();
      expect(socket.last('recall')).toEqual({
        type: 'recall',
        clientMsgId,
        conversationId: 'c1',
        targetSeq: 1,
      });
      socket.receive({ type: 'ack', clientMsgId, conversationId: 'c1', seq: 2, messageId: 'm2', sentAt: 3 });
      await acked;
      await flush();
      expect((await h.client.timeline('c1')).map((m) => [m.seq, m.contentType, m.recalled ?? false])).toEqual(
        [
          [1, 'text', true],
          [2, 'recall', false],
        ],
      );
      h.client.close();
    });

    it('emits receipts and typing', async () => {
      const h = setup();
      const socket = await connectReady(h);
      socket.receive({ type: 'receipt', conversationId: 'c1', kind: 'read', userId: 'u2', seq: 4 });
      socket.receive({ type: 'typing', conversationId: 'c1', userId: 'u2' });
      expect(h.events.receipt).toEqual([{ conversationId: 'c1', kind: 'read', userId: 'u2', seq: 4 }]);
      expect(h.events.typing).toEqual([{ conversationId: 'c1', userId: 'u2' }]);
      h.client.close();
    });
  });

  describe('requests', () => {
    it('answers conversations() with unread and mention counts, and history(), and stores what history returns', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const list = h.client.conversations();
      await flush();
      const summary = {
        conversationId: 'c1',
        type: 'direct',
        title: null,
        lastSeq: 9,
        readSeq: 2,
        unread: 7,
        mentions: 2,
        lastMessage: null,
      };
      const last = msg(21, 'g1', { contentType: 'recall', body: { targetSeq: 18 } });
      const group = {
        ...summary,
        conversationId: 'g1',
        type: 'group',
        title: 'Friday',
        lastSeq: 21,
        mentions: 0,
      };
      socket.receive({
        type: 'conversations_result',
        reqId: socket.last('conversations').reqId,
        conversations: [summary, { ...group, lastMessage: { type: 'message', ...last } }],
      });
      // The last message comes without the frame's `type`, like every other Message.
      await expect(list).resolves.toEqual([summary, { ...group, lastMessage: last }]);

      const page = h.client.history('c1', { beforeSeq: 10, limit: 2 });
      await flush();
      expect(socket.last('history')).toMatchObject({ conversationId: 'c1', beforeSeq: 10, limit: 2 });
      answerHistory(socket, [msg(8), msg(9)], true);
      await expect(page).resolves.toEqual({ hasMore: true, messages: [msg(8), msg(9)] });
      expect((await h.client.timeline('c1')).map((m) => m.seq)).toEqual([8, 9]);
      h.client.close();
    });

    it('asks receipts() of a message and answers with the members’ counts and cursors', async () => {
      const h = setup();
      const socket = await connectReady(h);
      const asked = h.client.receipts('g1', 4);
      await flush();
      const request = socket.last('receipts');
      expect(request).toEqual({ type: 'receipts', reqId: expect.any(String), conversationId: 'g1', seq: 4 });
      const users = [{ userId: 'u2', deliveredSeq: 4, readSeq: 3 }];
      socket.receive({
        type: 'receipts_result',
        reqId: request.reqId,
        conversationId: 'g1',
        seq: 4,
        members: 2,
        delivered: 1,
        read: 0,
        users,
      });
      await expect(asked).resolves.toEqual({
        conversationId: 'g1',
        seq: 4,
        members: 2,
        delivered: 1,
        read: 0,
        users,
      });
      h.client.close();
    });

    it('rejects with typed errors: timeout, server error, dropped connection', async () => {
      const h = setup({ requestTimeoutMs: 5_000 });
      const socket = await connectReady(h);
      const late = expect(h.client.conversations()).rejects.toMatchObject({
        name: 'ClientError',
        code: 'timeout',
      });
      await h.clock.advance(5_000);
      await late;

      const refused = h.client.history('c1', { afterSeq: 0 });
      await flush();
      socket.receive({ type: 'error', ref: socket.last('history').reqId, code: 'forbidden', message: 'no' });
      await expect(refused).rejects.toMatchObject({ code: 'forbidden', message: 'no' });

      const dropped = expect(h.client.conversations()).rejects.toMatchObject({ code: 'disconnected' });
      await flush();
      socket.serverClose(1006);
      await dropped;

      await expect(h.client.history('c1', {} as never)).rejects.toMatchObject({ code: 'bad_request' });
      h.client.close();
      await expect(h.client.conversations()).rejects.toMatchObject({ code: 'closed' });
    });

    it('keeps a read given while offline and sends it after the next welcome', async () => {
      const h = setup();
      h.client.read('c1', 3);
      h.client.read('c1', 5);
      h.client.read('c1', 4);
      expect(h.client.typing('c1')).toBe(false);
      const socket = await connectReady(h);
      expect(socket.framesOf('read')).toEqual([{ type: 'read', conversationId: 'c1', seq: 5 }]);
      expect(h.client.typing('c1')).toBe(true);
      expect(socket.last('typing')).toEqual({ type: 'typing', conversationId: 'c1' });
      h.client.close();
    });
  });

  it('throws on use after close()', async () => {
    const h = setup();
    h.client.close();
    expect(() => h.client.send('c1', { text: 'x' })).toThrow(ClientError);
    await expect(h.client.connect()).rejects.toMatchObject({ code: 'closed' });
    expect(h.clock.pending).toBe(0);
  });
});
