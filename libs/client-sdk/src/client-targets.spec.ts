import type { Message } from './index';
import { answerHistory, answerSync, connectReady, msg, push, setup, type Harness } from './spec-harness';
import { flush } from './testing';

// Control messages of c1 as the server sends them (sentAt = 1000 + seq, as msg() makes it).
const editOf = (seq: number, targetSeq: number, text: string, senderId = 'u2'): Message =>
  msg(seq, 'c1', { senderId, contentType: 'edit', body: { targetSeq, body: { text } } });
const reactionOf = (seq: number, targetSeq: number, senderId: string, emoji: string, op = 'add'): Message =>
  msg(seq, 'c1', { senderId, contentType: 'reaction', body: { targetSeq, emoji, op } });
const recallOf = (seq: number, targetSeq: number, senderId = 'u2'): Message =>
  msg(seq, 'c1', { senderId, contentType: 'recall', body: { targetSeq } });

async function targetOf(h: Harness, seq: number): Promise<Message | undefined> {
  return (await h.client.timeline('c1')).find((m) => m.seq === seq);
}

describe('ChatClient: edits, reactions and recalls reach their targets in any arrival order', () => {
  it('an edit pushed before its target: the target arrives edited (one message event, no update)', async () => {
    const h = setup();
    const socket = await connectReady(h);
    push(socket, editOf(2, 1, 'edited'));
    await flush();
    push(socket, msg(1)); // the target's own push was overtaken
    await flush();
    const edited = { ...msg(1), body: { text: 'edited' }, editedAt: 1_002 };
    expect(await targetOf(h, 1)).toEqual(edited);
    expect(h.events.message).toEqual([editOf(2, 1, 'edited'), edited]);
    expect(h.events.updated).toEqual([]);
    h.client.close();
  });

  it('a history copy of the target that already shows the edit changes nothing, and a newer one wins', async () => {
    const h = setup();
    const socket = await connectReady(h);
    push(socket, msg(1));
    push(socket, editOf(2, 1, 'v2'));
    await flush();
    const v2 = { ...msg(1), body: { text: 'v2' }, editedAt: 1_002 };
    expect(h.events.updated).toEqual([v2]);

    const page = h.client.history('c1', { afterSeq: 0 });
    await flush();
    answerHistory(socket, [v2, editOf(2, 1, 'v2')]);
    await page;
    expect(await targetOf(h, 1)).toEqual(v2);
    expect(h.events.updated).toHaveLength(1);

    // The server read the target after an edit (3) this device has not got yet.
    const v3 = { ...msg(1), body: { text: 'v3' }, editedAt: 1_003 };
    const older = h.client.history('c1', { beforeSeq: 2, limit: 1 });
    await flush();
    answerHistory(socket, [v3], true);
    await older;
    expect(await targetOf(h, 1)).toEqual(v3);
    push(socket, editOf(3, 1, 'v3'));
    await flush();
    expect(await targetOf(h, 1)).toEqual(v3);
    expect(h.events.updated).toEqual([v2, v3]);
    h.client.close();
  });

  it('two edits out of order: the later one stays', async () => {
    const h = setup();
    const socket = await connectReady(h);
    push(socket, msg(1));
    push(socket, editOf(3, 1, 'second'));
    push(socket, editOf(2, 1, 'first'));
    await flush();
    expect(await targetOf(h, 1)).toMatchObject({ body: { text: 'second' }, editedAt: 1_003 });
    expect(h.events.updated.map((m) => m.body.text)).toEqual(['second']);
    h.client.close();
  });

  it('reactions of several users, the same user twice, and removes', async () => {
    const h = setup();
    const socket = await connectReady(h);
    push(socket, msg(1));
    for (const m of [
      reactionOf(2, 1, 'u2', '👍'),
      reactionOf(3, 1, 'u3', '👍'),
      reactionOf(4, 1, 'u2', '👍'), // again: nothing changes
      reactionOf(5, 1, 'u2', '🎉'),
      reactionOf(6, 1, 'u3', '👍', 'remove'),
      reactionOf(7, 1, 'u4', '🎉', 'remove'), // u4 has none: nothing changes
    ])
      push(socket, m);
    await flush();
    expect((await targetOf(h, 1))?.reactions).toEqual([
      { emoji: '👍', count: 1, userIds: ['u2'] },
      { emoji: '🎉', count: 1, userIds: ['u2'] },
    ]);
    expect(h.events.updated.map((m) => m.reactions?.map((r) => `${r.emoji}${r.count}`).join(' '))).toEqual([
      '👍1',
      '👍2',
      '👍2 🎉1',
      '👍1 🎉1',
    ]);

    push(socket, reactionOf(8, 1, 'u2', '👍', 'remove'));
    push(socket, reactionOf(9, 1, 'u2', '🎉', 'remove'));
    await flush();
    const target = await targetOf(h, 1);
    expect(target).toEqual(msg(1));
    expect(target && 'reactions' in target).toBe(false);
    h.client.close();
  });

  it('a sync page with the target and the reactions it already counts does not count them twice', async () => {
    const h = setup();
    const counted = { ...msg(1), reactions: [{ emoji: '👍', count: 2, userIds: ['u2', 'u3'] }] };
    await connectReady(h, [
      { messages: [counted, reactionOf(2, 1, 'u2', '👍'), reactionOf(3, 1, 'u3', '👍')], cursors: { c1: 3 } },
    ]);
    expect(await targetOf(h, 1)).toEqual(counted);
    expect(h.events.updated).toEqual([]);
    h.client.close();
  });

  it('a recall, then a late edit and reaction: the target stays recalled', async () => {
    const h = setup();
    const socket = await connectReady(h);
    push(socket, msg(1));
    push(socket, reactionOf(2, 1, 'u3', '👍'));
    push(socket, recallOf(3, 1));
    push(socket, editOf(4, 1, 'too late'));
    push(socket, reactionOf(5, 1, 'u3', '🎉'));
    await flush();
    const recalled = { ...msg(1), recalled: true, body: {} };
    expect(await targetOf(h, 1)).toEqual(recalled);
    expect(h.events.updated.at(-1)).toEqual(recalled);
    expect(h.events.updated).toHaveLength(2); // the reaction, the recall; nothing after it
    h.client.close();
  });

  it('a recall before its target: the target arrives recalled, also from a page that does not show the recall', async () => {
    const h = setup();
    const socket = await connectReady(h);
    push(socket, msg(1));
    push(socket, recallOf(3, 2));
    await flush();
    // The gap fill asks for 2 (and 3); a page that ends at 2 tells nothing of the recall at 3.
    const fill = socket.last('history');
    expect(fill).toMatchObject({ conversationId: 'c1', afterSeq: 1 });
    answerHistory(socket, [msg(2)]);
    await flush();
    const recalled = { ...msg(2), recalled: true, body: {} };
    expect(await targetOf(h, 2)).toEqual(recalled);
    expect(h.events.message.map((m) => m.seq)).toEqual([1, 3, 2]);
    expect(h.events.message.at(-1)).toEqual(recalled);
    expect(h.events.updated).toEqual([]);
    h.client.close();
  });

  it('controls held across a reconnect apply to a target that comes with the next sync', async () => {
    const h = setup();
    const socket = await connectReady(h);
    push(socket, reactionOf(5, 4, 'u3', '🎉'));
    await flush();
    socket.serverClose(1006);
    await h.clock.advance(250);
    const next = h.net.last;
    next.welcome();
    await flush();
    // A page that ends at 4 was not read after the reaction: the held reaction completes it.
    answerSync(next, { messages: [msg(4)], cursors: { c1: 4 } });
    await flush();
    expect((await targetOf(h, 4))?.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: ['u3'] }]);
    h.client.close();
  });
});
