import { IndexedDbOutboxStorage } from './indexeddb-outbox-storage';
import type { OutboxEntry } from './outbox-storage';
import { FakeIndexedDb } from './testing/fake-indexeddb';

const entry = (id: string, createdAt: number): OutboxEntry => ({
  clientMsgId: id,
  createdAt,
  state: 'pending',
  frame: { type: 'recall', clientMsgId: id, conversationId: 'c1', targetSeq: 3 },
});

describe('IndexedDbOutboxStorage', () => {
  it('keeps entries across a reload, oldest first, and deletes them', async () => {
    const idb = new FakeIndexedDb();
    const first = new IndexedDbOutboxStorage('im-outbox-u1-d1', { indexedDB: idb.asFactory() });
    await first.put(entry('b', 2));
    await first.put(entry('a', 1));
    await first.close();

    const second = new IndexedDbOutboxStorage('im-outbox-u1-d1', { indexedDB: idb.asFactory() });
    expect((await second.load()).map((e) => e.clientMsgId)).toEqual(['a', 'b']);
    await second.delete('a');
    expect((await second.load()).map((e) => e.clientMsgId)).toEqual(['b']);
  });

  it('keeps edit and react entries', async () => {
    const idb = new FakeIndexedDb();
    const storage = new IndexedDbOutboxStorage('im-outbox-u1-d1', { indexedDB: idb.asFactory() });
    const edit: OutboxEntry = {
      ...entry('e', 1),
      frame: { type: 'edit', clientMsgId: 'e', conversationId: 'c1', targetSeq: 3, body: { text: 'x' } },
    };
    const react: OutboxEntry = {
      ...entry('r', 2),
      frame: { type: 'react', clientMsgId: 'r', conversationId: 'c1', targetSeq: 3, emoji: '👍', op: 'add' },
    };
    await storage.put(react);
    await storage.put(edit);
    expect(await storage.load()).toEqual([edit, react]);
  });

  it('keeps databases of different users apart', async () => {
    const idb = new FakeIndexedDb();
    await new IndexedDbOutboxStorage('u1', { indexedDB: idb.asFactory() }).put(entry('a', 1));
    expect(await new IndexedDbOutboxStorage('u2', { indexedDB: idb.asFactory() }).load()).toEqual([]);
  });

  it('rejects when there is no IndexedDB', async () => {
    await expect(new IndexedDbOutboxStorage('x').load()).rejects.toThrow('IndexedDB is not available');
  });
});
