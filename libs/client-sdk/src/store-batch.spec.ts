import { MemoryMessageStore } from './message-store';
import type { Message, Reaction } from './protocol';
import { storeBatch } from './store-batch';

const at = (seq: number, senderId: string, contentType: string, body: Record<string, unknown>): Message => ({
  conversationId: 'c',
  seq,
  messageId: `m${seq}`,
  senderId,
  clientMsgId: `k${seq}`,
  contentType,
  body,
  sentAt: 1_000 + seq,
});
const target = at(1, 'alice', 'text', { text: 'v1' });
const edit = (seq: number, text: string, by = 'alice') =>
  at(seq, by, 'edit', { targetSeq: 1, body: { text } });
const react = (seq: number, by: string, emoji: string, op: 'add' | 'remove' = 'add') =>
  at(seq, by, 'reaction', { targetSeq: 1, emoji, op });
const recall = (seq: number) => at(seq, 'alice', 'recall', { targetSeq: 1 });

/**
 * The server's copy of the target after the stream's controls up to `upTo`, written apart from
 * target-state.ts on purpose (after apps/storage control-effects.ts): edits by the sender
 * overwrite, reactions are rows (emoji, user, seq of the add that created them) summarized per
 * emoji by their earliest row, a recall ends everything.
 */
function serverView(stream: readonly Message[], upTo: number): Message {
  const view: Message = structuredClone(target);
  const rows = new Map<string, { emoji: string; userId: string; seq: number }>();
  for (const c of stream) {
    if (c.seq > upTo || c.seq === target.seq) continue;
    if (c.contentType === 'recall') {
      delete view.editedAt;
      return { ...view, recalled: true, body: {} };
    }
    if (c.contentType === 'edit' && c.senderId === view.senderId) {
      view.body = c.body.body as Record<string, unknown>;
      view.editedAt = c.sentAt;
    }
    if (c.contentType === 'reaction') {
      const key = `${c.body.emoji as string}|${c.senderId}`;
      if (c.body.op === 'remove') rows.delete(key);
      else if (!rows.has(key))
        rows.set(key, { emoji: c.body.emoji as string, userId: c.senderId, seq: c.seq });
    }
  }
  const byEmoji = new Map<string, { seq: number; userId: string }[]>();
  for (const r of [...rows.values()].sort((a, b) => a.seq - b.seq))
    byEmoji.set(r.emoji, [...(byEmoji.get(r.emoji) ?? []), r]);
  const reactions: Reaction[] = [...byEmoji]
    .sort(([, a], [, b]) => a[0].seq - b[0].seq)
    .map(([emoji, users]) => ({
      emoji,
      count: users.length,
      userIds: users.slice(0, 20).map((u) => u.userId),
    }));
  if (reactions.length > 0) view.reactions = reactions;
  return view;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

interface Arrival {
  messages: Message[];
  snapshot: boolean;
}

/** Delivers the arrivals one batch after the other into a fresh store; the target as it ends. */
async function deliver(arrivals: readonly Arrival[]): Promise<Message | undefined> {
  const store = new MemoryMessageStore();
  for (const a of arrivals) await storeBatch(store, 'c', a.messages, a.snapshot);
  return (await store.list('c')).find((m) => m.seq === target.seq);
}

/**
 * Every order of the controls (or every `sample`-th of them, to keep the spec fast), with the
 * target arriving at every position, either as a fresh push or as the server's copy read
 * after any number of the controls (alone, or in a history page with the controls it
 * reflects): the device always ends at the server's view. Returns the number of runs.
 */
async function expectConvergence(controls: readonly Message[], sample = 1): Promise<number> {
  const stream = [target, ...controls];
  const last = controls[controls.length - 1].seq;
  const expected = serverView(stream, last);
  let runs = 0;
  for (const order of permutations(controls).filter((_, i) => i % sample === 0)) {
    for (let position = 0; position <= order.length; position++) {
      const ways: Arrival[] = [{ messages: [target], snapshot: false }];
      for (let k = target.seq; k <= last; k++) {
        ways.push({ messages: [serverView(stream, k)], snapshot: true });
        ways.push({
          messages: [serverView(stream, k), ...controls.filter((c) => c.seq <= k)],
          snapshot: true,
        });
      }
      for (const way of ways) {
        const pushes = order.map((c): Arrival => ({ messages: [c], snapshot: false }));
        pushes.splice(position, 0, way);
        const got = await deliver(pushes);
        try {
          expect(got).toEqual(expected);
        } catch (error) {
          const arrivals = JSON.stringify(pushes.map((p) => p.messages.map((m) => m.seq)));
          throw new Error(`diverged after arrivals ${arrivals}: ${(error as Error).message}`);
        }
        runs++;
      }
    }
  }
  return runs;
}

describe('storeBatch', () => {
  it('reports a new target as added, a changed one as updated, and an unchanged copy as neither', async () => {
    const store = new MemoryMessageStore();
    expect(await storeBatch(store, 'c', [target], false)).toEqual({ added: [target], updated: [] });
    const e = edit(2, 'v2');
    const { added, updated } = await storeBatch(store, 'c', [e], false);
    expect(added).toEqual([e]);
    expect(updated).toEqual([{ ...target, body: { text: 'v2' }, editedAt: e.sentAt }]);
    // The server's copy that already shows the edit changes nothing.
    expect(await storeBatch(store, 'c', [serverView([target, e], 2), e], true)).toEqual({
      added: [],
      updated: [],
    });
  });

  it('drops a message hidden on this device', async () => {
    const store = new MemoryMessageStore();
    await store.hide('c', 1);
    expect(await storeBatch(store, 'c', [target, react(2, 'bob', '👍')], false)).toEqual({
      added: [react(2, 'bob', '👍')],
      updated: [],
    });
    expect((await store.list('c')).map((m) => m.seq)).toEqual([2]);
  });

  it('leaves a control message aimed at a control message without effect', async () => {
    const store = new MemoryMessageStore();
    const r = react(2, 'bob', '👍');
    await storeBatch(store, 'c', [target, r], false);
    const odd = at(3, 'bob', 'edit', { targetSeq: 2, body: { text: 'x' } });
    expect((await storeBatch(store, 'c', [odd], false)).updated).toEqual([]);
    expect((await store.list('c'))[1]).toEqual(r);
  });

  describe('converges to the server’s view in every arrival order', () => {
    it('edits by the sender (and one by someone else), in and out of order', async () => {
      expect(
        await expectConvergence([edit(2, 'v2'), edit(3, 'v3'), edit(4, 'v4'), edit(5, 'not mine', 'bob')]),
      ).toBe(24 * 5 * 11);
    });

    it('reactions of several users, the same user twice, a remove and a re-add', async () => {
      await expectConvergence(
        [
          react(2, 'bob', '👍'),
          react(3, 'bob', '👍'), // again: changes nothing
          react(4, 'carol', '🎉'),
          react(5, 'dave', '👍'),
          react(6, 'bob', '👍', 'remove'), // 👍 now starts at dave (5), after 🎉 (4)
          react(7, 'bob', '👍'),
        ],
        25,
      );
    });

    it('edits and reactions mixed', async () => {
      await expectConvergence(
        [
          react(2, 'bob', '👍'),
          edit(3, 'v3'),
          react(4, 'bob', '👍', 'remove'),
          edit(5, 'v5'),
          react(6, 'carol', '🎉'),
        ],
        3,
      );
    });

    it('a recall, with an edit and a reaction before it and late ones after it', async () => {
      await expectConvergence(
        [react(2, 'bob', '👍'), edit(3, 'v3'), recall(4), edit(5, 'late'), react(6, 'carol', '🎉')],
        3,
      );
    });
  });
});
