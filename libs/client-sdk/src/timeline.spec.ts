import type { ClientFrame, Message } from './protocol';
import { MemoryMessageStore } from './message-store';
import { Timeline } from './timeline';

const message = (seq: number): Message => ({
  conversationId: 'c',
  seq,
  messageId: `m${seq}`,
  senderId: 'u',
  clientMsgId: `k${seq}`,
  contentType: 'text',
  body: { text: String(seq) },
  sentAt: seq,
});

function setup() {
  const store = new MemoryMessageStore();
  let listed = 0;
  const list = store.list.bind(store);
  store.list = (conversationId, afterSeq) => {
    listed++;
    return list(conversationId, afterSeq);
  };
  const written: ClientFrame[] = [];
  const timeline = new Timeline({
    store,
    clock: { now: () => 0, setTimeout: () => undefined, clearTimeout: () => undefined },
    ackDebounceMs: 0,
    gapPageSize: 100,
    write: (frame) => written.push(frame) > 0,
    history: async () => ({ messages: [], hasMore: false }),
    onMessage: () => undefined,
    onUpdated: () => undefined,
    onError: () => undefined,
  });
  return { timeline, store, listed: () => listed };
}

/**
 * Regression (chaos harness profile): while a seq was missing, every new message made the
 * timeline read (and copy) every stored message above the hole, so a hole that lasted cost
 * quadratic time and starved the event loop of a client with busy conversations.
 */
describe('Timeline cursor over a hole', () => {
  it('reads the store above a hole once, not on every message, and jumps when the hole closes', async () => {
    const { timeline, listed } = setup();
    await timeline.ingest([message(1)], [], 'push');
    for (let seq = 3; seq <= 200; seq++) await timeline.ingest([message(seq)], [], 'push');
    expect(timeline.cursorSnapshot()).toEqual({ c: 1 });
    expect(listed()).toBeLessThanOrEqual(3);

    await timeline.ingest([message(2)], [], 'push');
    expect(timeline.cursorSnapshot()).toEqual({ c: 200 });
  });

  it('moves over stored seqs when coverage moves the cursor past the hole', async () => {
    const { timeline } = setup();
    await timeline.ingest([message(1), message(4), message(5)], [], 'push');
    expect(timeline.cursorSnapshot()).toEqual({ c: 1 });
    // A history page covering 1 < seq ≤ 3 that found nothing there (2 and 3 were recalled away).
    await timeline.ingest([], [{ conversationId: 'c', after: 1, upTo: 3 }]);
    expect(timeline.cursorSnapshot()).toEqual({ c: 5 });
  });

  it('looks at the store again for a conversation it forgot', async () => {
    const { timeline } = setup();
    await timeline.ingest([message(1), message(2)], [], 'push');
    timeline.forget(['c']);
    await timeline.ingest([message(3)], [], 'push');
    expect(timeline.cursorSnapshot()).toEqual({ c: 3 });
  });
});
