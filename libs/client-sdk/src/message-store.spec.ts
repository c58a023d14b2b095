import { MemoryMessageStore, type StoredMessage } from './message-store';
import type { Message } from './protocol';

const msg = (seq: number, conversationId = 'c1', extra: Partial<Message> = {}): Message => ({
  conversationId,
  seq,
  messageId: `m${seq}`,
  senderId: 'u2',
  clientMsgId: `x${seq}`,
  contentType: 'text',
  body: { text: `#${seq}` },
  sentAt: seq,
  ...extra,
});
const record = (m: Message): StoredMessage => ({ message: m });
const reaction = (seq: number, targetSeq: number): Message =>
  msg(seq, 'c1', { contentType: 'reaction', body: { targetSeq, emoji: '👍', op: 'add' } });

describe('MemoryMessageStore', () => {
  it('stores each (conversationId, seq) once, replacing it on a second put', async () => {
    const store = new MemoryMessageStore();
    await store.put([record(msg(1)), record(msg(2)), record(msg(2, 'c2'))]);
    await store.put([record(msg(2, 'c1', { body: { text: 'edited' }, editedAt: 9 }))]);
    expect((await store.list('c1')).map((m) => [m.seq, m.body.text])).toEqual([
      [1, '#1'],
      [2, 'edited'],
    ]);
    expect(await store.list('c2')).toHaveLength(1);
  });

  it('lists ascending by seq whatever the arrival order, and after a seq', async () => {
    const store = new MemoryMessageStore();
    await store.put([5, 1, 3, 2, 4].map((seq) => record(msg(seq))));
    expect((await store.list('c1')).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.list('c1', 3)).map((m) => m.seq)).toEqual([4, 5]);
    expect(await store.list('nope')).toEqual([]);
  });

  it('gets records by seq, with their base and asOf', async () => {
    const store = new MemoryMessageStore();
    const base = msg(1);
    await store.put([{ message: { ...base, editedAt: 7 }, base, asOf: 4 }, record(msg(2))]);
    const { stored, hidden } = await store.get('c1', [1, 3, 1]);
    expect(stored).toEqual([{ message: { ...base, editedAt: 7 }, base, asOf: 4 }]);
    expect(hidden).toEqual([]);
    expect(await store.get('nope', [1])).toEqual({ stored: [], hidden: [] });
  });

  it('finds the control messages aimed at targets, ascending by seq', async () => {
    const store = new MemoryMessageStore();
    await store.put([record(msg(1)), record(reaction(5, 1)), record(reaction(3, 1)), record(reaction(4, 2))]);
    expect((await store.controls('c1', [1])).map((m) => m.seq)).toEqual([3, 5]);
    expect((await store.controls('c1', [2, 1])).map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(await store.controls('c1', [9])).toEqual([]);
  });

  it('hides: gone from list and get, a later put of it is ignored, a hidden control still counts', async () => {
    const store = new MemoryMessageStore();
    await store.put([record(msg(1)), record(msg(2)), record(reaction(3, 1))]);
    await store.hide('c1', 2);
    await store.hide('c1', 3);
    await store.hide('c1', 9); // not stored yet: remembered anyway
    await store.put([record(msg(2)), record(msg(9))]);
    expect((await store.list('c1')).map((m) => m.seq)).toEqual([1]);
    expect(await store.get('c1', [1, 2, 9])).toEqual({ stored: [record(msg(1))], hidden: [2, 9] });
    expect((await store.controls('c1', [1])).map((m) => m.seq)).toEqual([3]);
  });

  it('hands out copies', async () => {
    const store = new MemoryMessageStore();
    const m = msg(1);
    await store.put([record(m)]);
    m.body.text = 'changed by the caller';
    const [listed] = await store.list('c1');
    listed.body.text = 'changed';
    expect((await store.list('c1'))[0].body).toEqual({ text: '#1' });
  });

  it('keeps cursors', async () => {
    const store = new MemoryMessageStore();
    await store.setCursor('c1', 4);
    expect(await store.cursors()).toEqual({ c1: 4 });
  });

  it('keeps the epoch, and clear() forgets messages, hidden seqs, controls, cursors and the epoch', async () => {
    const store = new MemoryMessageStore();
    expect(await store.epoch()).toBeUndefined();
    await store.put([record(msg(1)), record(reaction(2, 1))]);
    await store.hide('c1', 3);
    await store.setCursor('c1', 3);
    await store.setEpoch('e1');
    expect(await store.epoch()).toBe('e1');

    await store.clear();
    expect(await store.epoch()).toBeUndefined();
    expect(await store.cursors()).toEqual({});
    expect(await store.list('c1')).toEqual([]);
    expect(await store.controls('c1', [1])).toEqual([]);
    await store.put([record(msg(3))]); // no longer hidden
    expect(await store.get('c1', [3])).toEqual({ stored: [record(msg(3))], hidden: [] });
  });
});
