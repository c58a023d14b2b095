import { MemoryMessageStore } from './message-store';
import type { Message } from './protocol';

const msg = (seq: number, conversationId = 'c1'): Message => ({
  conversationId,
  seq,
  messageId: `m${seq}`,
  senderId: 'u2',
  clientMsgId: `x${seq}`,
  contentType: 'text',
  body: { text: `#${seq}` },
  sentAt: seq,
});

describe('MemoryMessageStore', () => {
  it('stores each (conversationId, seq) once and returns only the new ones', async () => {
    const store = new MemoryMessageStore();
    expect((await store.add([msg(1), msg(2)])).map((m) => m.seq)).toEqual([1, 2]);
    expect((await store.add([msg(2), msg(3), msg(2, 'c2')])).map((m) => [m.conversationId, m.seq])).toEqual([
      ['c1', 3],
      ['c2', 2],
    ]);
    expect(await store.list('c1')).toHaveLength(3);
  });

  it('lists ascending by seq whatever the arrival order, and after a seq', async () => {
    const store = new MemoryMessageStore();
    await store.add([msg(5), msg(1), msg(3), msg(2), msg(4)]);
    expect((await store.list('c1')).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.list('c1', 3)).map((m) => m.seq)).toEqual([4, 5]);
    expect(await store.list('nope')).toEqual([]);
  });

  it('marks recalled messages and empties their body, also when history says so', async () => {
    const store = new MemoryMessageStore();
    await store.add([msg(1), msg(2)]);
    expect(await store.recall('c1', 1)).toMatchObject({ seq: 1, recalled: true, body: {} });
    expect(await store.recall('c1', 9)).toBeUndefined();
    await store.add([{ ...msg(2), recalled: true, body: {} }]);
    expect((await store.list('c1')).map((m) => m.recalled)).toEqual([true, true]);
  });

  it('hands out copies', async () => {
    const store = new MemoryMessageStore();
    const [added] = await store.add([msg(1)]);
    added.body.text = 'changed';
    expect((await store.list('c1'))[0].body).toEqual({ text: '#1' });
  });

  it('keeps cursors', async () => {
    const store = new MemoryMessageStore();
    await store.setCursor('c1', 4);
    expect(await store.cursors()).toEqual({ c1: 4 });
  });
});
