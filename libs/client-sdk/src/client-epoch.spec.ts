import { MemoryMessageStore, MemoryOutboxStorage } from './index';
import { answerSync, connectReady, GatedStorage, msg, push, setup, type Harness } from './spec-harness';
import { flush, type FakeSocket } from './testing';

/** What an earlier run left: c1 holds 1–3 and c2 holds 1, with their cursors and (if given) their epoch. */
async function oldStore(epoch?: string): Promise<MemoryMessageStore> {
  const store = new MemoryMessageStore();
  await store.put([msg(1), msg(2), msg(3), msg(1, 'c2')].map((message) => ({ message })));
  await store.setCursor('c1', 3);
  await store.setCursor('c2', 1);
  if (epoch !== undefined) await store.setEpoch(epoch);
  return store;
}

/** connect() and a welcome with these fields; the client has asked for its first sync (or failed to). */
async function welcomed(h: Harness, fields: Parameters<FakeSocket['welcome']>[0] = {}): Promise<FakeSocket> {
  void h.client.connect();
  await flush();
  const socket = h.net.last;
  socket.welcome(fields);
  await flush();
  return socket;
}

const seqs = async (h: Harness, conversationId = 'c1') =>
  (await h.client.timeline(conversationId)).map((m) => m.seq);

/** docs/protocol.md §7.9: the stored messages belong to the epoch they came with. */
describe('ChatClient and the history epoch', () => {
  it('records the first epoch it sees and keeps what it stored before it knew epochs', async () => {
    const store = await oldStore();
    const h = setup({ messageStore: store });
    const socket = await welcomed(h, { epoch: 'e1' });
    expect(socket.last('sync').cursors).toEqual({ c1: 3, c2: 1 });
    answerSync(socket, { cursors: { c1: 3, c2: 1 }, epoch: 'e1' });
    await flush();
    expect(h.client.state).toBe('ready');
    expect(h.events.epochChanged).toEqual([]);
    expect(await store.epoch()).toBe('e1');
    expect(await seqs(h)).toEqual([1, 2, 3]);
    h.client.close();
  });

  it('keeps everything when the epoch is the one the store came with, after a restart and on a reconnect', async () => {
    const store = await oldStore('e1');
    const h = setup({ messageStore: store });
    const socket = await connectReady(h, [{ cursors: { c1: 3, c2: 1 }, epoch: 'e1' }], { epoch: 'e1' });
    expect(socket.framesOf('sync')[0].cursors).toEqual({ c1: 3, c2: 1 });
    h.client.read('c1', 3);
    socket.serverClose(1006);
    h.client.read('c1', 3); // offline: kept for the next welcome
    await h.clock.advance(250);
    const next = h.net.last;
    next.welcome({ epoch: 'e1' });
    await flush();
    expect(next.last('sync').cursors).toEqual({ c1: 3, c2: 1 });
    expect(next.framesOf('read')).toEqual([{ type: 'read', conversationId: 'c1', seq: 3 }]);
    expect(h.events.epochChanged).toEqual([]);
    expect(await seqs(h)).toEqual([1, 2, 3]);
    h.client.close();
  });

  it('a client restarted on a store of another epoch drops it, syncs from 0 and announces the messages again', async () => {
    const store = await oldStore('e1');
    const h = setup({ messageStore: store });
    const socket = await welcomed(h, { epoch: 'e2' });

    expect(h.events.epochChanged).toEqual([{ previous: 'e1', epoch: 'e2' }]);
    expect(await store.list('c1')).toEqual([]);
    expect(await store.list('c2')).toEqual([]);
    expect(await store.cursors()).toEqual({ c1: 0, c2: 0 });
    expect(await store.epoch()).toBe('e2');
    expect(socket.framesOf('sync')).toHaveLength(1);
    expect(socket.last('sync').cursors).toEqual({ c1: 0, c2: 0 });

    // The restored history: c1 ends at 2 now, and its seq 2 is another message.
    const restored = [
      msg(1),
      msg(2, 'c1', { messageId: 'other-2', body: { text: 'not what was stored' } }),
      msg(1, 'c2'),
    ];
    answerSync(socket, { messages: restored, cursors: { c1: 2, c2: 1 }, epoch: 'e2' });
    await h.clock.advance(50);
    expect(h.client.state).toBe('ready');
    expect(await h.client.timeline('c1')).toEqual(restored.slice(0, 2));
    expect(h.events.message.map((m) => `${m.conversationId}#${m.seq}`)).toEqual(['c1#1', 'c1#2', 'c2#1']);
    expect(await store.cursors()).toEqual({ c1: 2, c2: 1 });
    expect(socket.framesOf('deliver_ack')).toEqual([
      { type: 'deliver_ack', conversationId: 'c1', seq: 2 },
      { type: 'deliver_ack', conversationId: 'c2', seq: 1 },
    ]);
    h.client.close();
  });

  it('reconnecting into a new epoch, it says nothing about earlier seqs: no owed deliver_ack, no kept read', async () => {
    const h = setup();
    const socket = await connectReady(h, [{ messages: [msg(1), msg(2)], cursors: { c1: 2 }, epoch: 'e1' }], {
      epoch: 'e1',
    });
    push(socket, msg(3));
    await flush();
    socket.serverClose(1006); // before the deliver_ack (50 ms) went out
    h.client.read('c1', 3);
    await h.clock.advance(250);
    expect(socket.framesOf('deliver_ack')).toEqual([]); // owed: it would go out after the next welcome
    const next = h.net.last;
    next.welcome({ epoch: 'e2' });
    await flush();

    expect(h.events.epochChanged).toEqual([{ previous: 'e1', epoch: 'e2' }]);
    expect(next.framesOf('deliver_ack')).toEqual([]);
    expect(next.last('sync').cursors).toEqual({ c1: 0 });
    expect(await seqs(h)).toEqual([]);
    answerSync(next, { messages: [msg(1)], cursors: { c1: 1 }, epoch: 'e2' });
    await h.clock.advance(50);
    expect(next.framesOf('read')).toEqual([]);
    expect(next.framesOf('deliver_ack')).toEqual([{ type: 'deliver_ack', conversationId: 'c1', seq: 1 }]);
    expect(await seqs(h)).toEqual([1]);
    h.client.close();
  });

  it('an epoch that changed between welcome and sync_result discards that page and syncs again from 0', async () => {
    const store = await oldStore('e1');
    const h = setup({ messageStore: store });
    const socket = await welcomed(h, { epoch: 'e1' });
    const first = socket.last('sync');
    expect(first.cursors).toEqual({ c1: 3, c2: 1 });
    answerSync(socket, { messages: [msg(4)], cursors: { c1: 4, c2: 1 }, epoch: 'e2' });
    await flush();

    expect(h.events.epochChanged).toEqual([{ previous: 'e1', epoch: 'e2' }]);
    expect(h.events.message).toEqual([]);
    const again = socket.last('sync');
    expect(again.reqId).not.toBe(first.reqId);
    expect(again.cursors).toEqual({ c1: 0, c2: 0 });
    answerSync(socket, { messages: [msg(1)], cursors: { c1: 1, c2: 0 }, epoch: 'e2' });
    await flush();
    expect(h.client.state).toBe('ready');
    expect(await seqs(h)).toEqual([1]);
    expect(await seqs(h, 'c2')).toEqual([]);
    h.client.close();
  });

  it('keeps sends and resends them; fails edits, reactions and recalls aimed at seqs of the earlier history', async () => {
    const outboxStorage = new MemoryOutboxStorage();
    const h = setup({ outboxStorage, messageStore: await oldStore('e1') });
    const sent = h.client.send('c1', { text: 'written offline' });
    const aimed = [
      h.client.edit('c1', 3, { text: 'fixed' }),
      h.client.react('c1', 2, '👍'),
      h.client.recall('c1', 1),
    ];
    const socket = await welcomed(h, { epoch: 'e2' });

    expect(socket.framesOf('send').map((f) => f.clientMsgId)).toEqual([sent.clientMsgId]);
    expect(socket.frames().filter((f) => ['edit', 'react', 'recall'].includes(f.type))).toEqual([]);
    for (const handle of aimed)
      await expect(handle.acked).rejects.toMatchObject({ code: 'epoch_changed', ref: handle.clientMsgId });
    expect(h.events.failed.map((f) => [f.entry.frame.type, f.error.code])).toEqual([
      ['edit', 'epoch_changed'],
      ['react', 'epoch_changed'],
      ['recall', 'epoch_changed'],
    ]);
    // They stay, for the app to retry() after a look or to discard().
    expect((await outboxStorage.load()).map((e) => [e.frame.type, e.state])).toEqual([
      ['send', 'pending'],
      ['edit', 'failed'],
      ['react', 'failed'],
      ['recall', 'failed'],
    ]);

    socket.receive({
      type: 'ack',
      clientMsgId: sent.clientMsgId,
      conversationId: 'c1',
      seq: 1,
      messageId: 'm1',
      sentAt: 5,
    });
    await expect(sent.acked).resolves.toMatchObject({ seq: 1 });
    answerSync(socket, { cursors: { c1: 1, c2: 0 }, epoch: 'e2' });
    await flush();
    expect((await h.client.timeline('c1')).map((m) => [m.seq, m.body.text])).toEqual([
      [1, 'written offline'],
    ]);
    h.client.close();
  });

  it('puts nothing on the new connection before its epoch was checked, however long the store takes', async () => {
    const store = await oldStore('e1');
    const clear = store.clear.bind(store);
    let opened: () => void = () => undefined;
    const h = setup({ messageStore: store });
    const socket = await connectReady(h, [{ cursors: { c1: 3, c2: 1 }, epoch: 'e1' }], { epoch: 'e1' });
    const edit = h.client.edit('c1', 3, { text: 'fixed' });
    await flush();
    expect(socket.framesOf('edit')).toHaveLength(1); // its resend is due 1 s later

    store.clear = () => new Promise<void>((resolve) => (opened = () => void clear().then(resolve)));
    socket.serverClose(1006);
    await h.clock.advance(250);
    const next = h.net.last;
    next.welcome({ epoch: 'e2' });
    push(next, msg(1, 'c1', { messageId: 'pushed-1' }));
    await h.clock.advance(2_000); // the resend falls due while the store is still clearing
    expect(next.frames().map((f) => f.type)).toEqual([]);

    opened();
    await flush();
    await expect(edit.acked).rejects.toMatchObject({ code: 'epoch_changed' });
    expect(next.framesOf('edit')).toEqual([]);
    expect(next.last('sync').cursors).toEqual({ c1: 0, c2: 0 });
    h.client.close();
  });

  it('fails an edit whose put was still under way when the epoch changed, and never sends it', async () => {
    const outboxStorage = new GatedStorage();
    const h = setup({ outboxStorage, messageStore: await oldStore('e1') });
    const edit = h.client.edit('c1', 3, { text: 'fixed' });
    const socket = await welcomed(h, { epoch: 'e2' });
    await expect(edit.acked).rejects.toMatchObject({ code: 'epoch_changed' });
    outboxStorage.open();
    await flush();
    outboxStorage.open(); // the failed state's put
    await h.clock.advance(5_000);
    expect(socket.framesOf('edit')).toEqual([]);
    expect((await outboxStorage.load()).map((e) => e.state)).toEqual(['failed']);
    h.client.close();
  });

  it.each([
    ['no epoch (a server before revision 2)', {}],
    ['an empty epoch', { epoch: '' }],
    ['an epoch that is no string', { epoch: 7 }],
  ])('a welcome with %s changes nothing', async (_, fields) => {
    const store = await oldStore('e1');
    const h = setup({ messageStore: store });
    const socket = await welcomed(h, fields);
    expect(socket.last('sync').cursors).toEqual({ c1: 3, c2: 1 });
    answerSync(socket, { cursors: { c1: 3, c2: 1 } });
    await flush();
    expect(h.client.state).toBe('ready');
    expect(h.events.epochChanged).toEqual([]);
    expect(await store.epoch()).toBe('e1');
    expect(await seqs(h)).toEqual([1, 2, 3]);
    h.client.close();
  });

  it('a store that fails to drop its messages stays as it was, and the next connection tries again', async () => {
    const store = await oldStore('e1');
    const clear = store.clear.bind(store);
    let failures = 1;
    store.clear = async () => {
      if (failures-- > 0) throw new Error('disk full');
      return clear();
    };
    const h = setup({ messageStore: store });
    const socket = await welcomed(h, { epoch: 'e2' });
    expect(h.events.error.map((e) => e.code)).toEqual(['storage']);
    expect(h.events.epochChanged).toEqual([]);
    expect(socket.framesOf('sync')).toEqual([]);
    expect(socket.closedWith?.code).toBe(4000);
    expect(await store.epoch()).toBe('e1');

    await h.clock.advance(250);
    const next = h.net.last;
    expect(next).not.toBe(socket);
    next.welcome({ epoch: 'e2' });
    await flush();
    expect(h.events.epochChanged).toEqual([{ previous: 'e1', epoch: 'e2' }]);
    expect(next.last('sync').cursors).toEqual({ c1: 0, c2: 0 });
    h.client.close();
  });
});
