import type { Message } from './protocol';
import { applyControls, controlTarget, isControl, mergeBase, recalledView } from './target-state';

const target = (extra: Partial<Message> = {}): Message => ({
  conversationId: 'c',
  seq: 10,
  messageId: 'm10',
  senderId: 'alice',
  clientMsgId: 'k10',
  contentType: 'text',
  body: { text: 'original' },
  sentAt: 1_000,
  ...extra,
});
const control = (
  seq: number,
  senderId: string,
  contentType: string,
  body: Record<string, unknown>,
): Message => ({
  conversationId: 'c',
  seq,
  messageId: `m${seq}`,
  senderId,
  clientMsgId: `k${seq}`,
  contentType,
  body: { targetSeq: 10, ...body },
  sentAt: 1_000 + seq,
});
const edit = (seq: number, text: string, senderId = 'alice') =>
  control(seq, senderId, 'edit', { body: { text } });
const add = (seq: number, userId: string, emoji = '👍') =>
  control(seq, userId, 'reaction', { emoji, op: 'add' });
const remove = (seq: number, userId: string, emoji = '👍') =>
  control(seq, userId, 'reaction', { emoji, op: 'remove' });
const recall = (seq: number) => control(seq, 'alice', 'recall', {});

/** The target as a fresh push shows it, with the controls applied. */
const fresh = (controls: Message[], base = target()) => applyControls({ base, asOf: base.seq }, controls);

describe('target state', () => {
  it('knows control messages and their targets', () => {
    expect(isControl(edit(11, 'x'))).toBe(true);
    expect(isControl(target())).toBe(false);
    expect(controlTarget(add(11, 'bob'))).toBe(10);
    expect(controlTarget(target())).toBeUndefined();
    expect(controlTarget(control(11, 'bob', 'reaction', { targetSeq: '10' }))).toBeUndefined();
  });

  describe('edits', () => {
    it('take the newest edit in seq order, whatever order they are given in', () => {
      const view = fresh([edit(12, 'second'), edit(11, 'first')]);
      expect(view).toMatchObject({ body: { text: 'second' }, editedAt: 1_012 });
    });

    it('skip an edit older than the editedAt of the base (the copy already reflects a newer one)', () => {
      const base = target({ body: { text: 'second' }, editedAt: 1_012 });
      // The server read the target after edit 12; this device holds only edit 11.
      expect(fresh([edit(11, 'first')], base)).toEqual(base);
      // Re-applying the edit the copy reflects changes nothing either.
      expect(fresh([edit(11, 'first'), edit(12, 'second')], base)).toEqual(base);
    });

    it('ignore edits by anyone but the sender, and edits without an object body', () => {
      const view = fresh([edit(11, 'not yours', 'bob'), control(12, 'alice', 'edit', { body: 'text' })]);
      expect(view).toEqual(target());
    });

    it('skip controls the base is known to reflect (seq ≤ asOf)', () => {
      const base = target({ body: { text: 'second' }, editedAt: 1_012 });
      // Same millisecond: only asOf tells that edit 11 is older than what the copy shows.
      const sameMs = { ...edit(11, 'first'), sentAt: 1_012 };
      expect(applyControls({ base, asOf: 12 }, [sameMs])).toEqual(base);
    });
  });

  describe('reactions', () => {
    it('count each user once per emoji and drop an emoji (and the field) at zero', () => {
      const twice = fresh([add(11, 'bob'), add(12, 'bob'), add(13, 'carol'), add(14, 'bob', '🎉')]);
      expect(twice.reactions).toEqual([
        { emoji: '👍', count: 2, userIds: ['bob', 'carol'] },
        { emoji: '🎉', count: 1, userIds: ['bob'] },
      ]);
      const removed = fresh([add(11, 'bob'), remove(12, 'bob'), remove(13, 'bob'), remove(14, 'dave')]);
      expect(removed).toEqual(target());
      expect('reactions' in removed).toBe(false);
    });

    it('apply add and remove in seq order even when they come out of order', () => {
      // remove (13) arrived before the add (12) it undoes
      expect(fresh([remove(13, 'bob'), add(12, 'bob'), add(11, 'carol')]).reactions).toEqual([
        { emoji: '👍', count: 1, userIds: ['carol'] },
      ]);
      // users in the order they reacted, not the order the device learnt of it
      expect(fresh([add(12, 'carol'), add(11, 'bob')]).reactions).toEqual([
        { emoji: '👍', count: 2, userIds: ['bob', 'carol'] },
      ]);
    });

    it('order emojis by their earliest remaining reaction, as the server does', () => {
      const view = fresh([
        add(11, 'bob', 'A'),
        add(12, 'carol', 'B'),
        add(13, 'dave', 'A'),
        remove(14, 'bob', 'A'),
      ]);
      expect(view.reactions?.map((r) => r.emoji)).toEqual(['B', 'A']);
      // The same from a copy that shows all four, with the adds held: their seqs order the emojis.
      const base = target({
        reactions: [
          { emoji: 'A', count: 2, userIds: ['bob', 'dave'] },
          { emoji: 'B', count: 1, userIds: ['carol'] },
        ],
      });
      const held = [add(11, 'bob', 'A'), add(12, 'carol', 'B'), add(13, 'dave', 'A'), remove(14, 'bob', 'A')];
      expect(applyControls({ base, asOf: 13 }, held).reactions?.map((r) => r.emoji)).toEqual(['B', 'A']);
    });

    it('name at most 20 users and keep counting past them', () => {
      const adds = Array.from({ length: 25 }, (_, i) => add(11 + i, `u${i}`));
      const [r] = fresh([...adds, remove(40, 'u3')]).reactions!;
      expect(r.count).toBe(24);
      expect(r.userIds).toHaveLength(20);
      expect(r.userIds.slice(2, 4)).toEqual(['u2', 'u4']);
      expect(r.userIds[19]).toBe('u20');
    });

    it('on a copy that counts users it does not name, add and remove others by the count', () => {
      const names = Array.from({ length: 20 }, (_, i) => `u${i}`);
      const base = target({ reactions: [{ emoji: '👍', count: 22, userIds: names }] });
      const [r] = applyControls({ base, asOf: 50 }, [
        add(51, 'new'),
        remove(52, 'someone-unnamed'),
        remove(53, 'u0'),
      ]).reactions!;
      expect(r.count).toBe(21);
      // u0 left; who the 20th is now, only the server knows: the list stops where it cannot tell.
      expect(r.userIds).toEqual(names.slice(1));
    });
  });

  describe('recalls', () => {
    it('empty the target, drop edits and reactions, and nothing applies after them', () => {
      const view = fresh([
        add(11, 'bob'),
        edit(12, 'edited'),
        recall(13),
        edit(14, 'late'),
        add(15, 'carol'),
      ]);
      expect(view).toEqual({ ...target(), recalled: true, body: {} });
    });

    it('keep a recalled copy recalled whatever is held', () => {
      const base = recalledView(target({ replyTo: 3, mentions: ['bob'] }));
      expect(fresh([edit(12, 'late'), add(13, 'bob')], base)).toEqual({
        ...target(),
        replyTo: 3,
        mentions: ['bob'],
        recalled: true,
        body: {},
      });
    });
  });

  describe('merging two copies of a target', () => {
    const page = target({
      body: { text: 'edited' },
      editedAt: 1_020,
      reactions: [{ emoji: '👍', count: 1, userIds: ['bob'] }],
    });

    it('takes the copy known to be newer, and the newer edit and a recall from either', () => {
      expect(mergeBase({ base: page, asOf: 30 }, { base: target(), asOf: 10 })).toEqual({
        base: page,
        asOf: 30,
      });
      expect(mergeBase({ base: target(), asOf: 10 }, { base: page, asOf: 30 })).toEqual({
        base: page,
        asOf: 30,
      });
      const stalePage = target({ reactions: [{ emoji: '🎉', count: 1, userIds: ['dave'] }] });
      expect(mergeBase({ base: page, asOf: 10 }, { base: stalePage, asOf: 12 }).base).toEqual({
        ...stalePage,
        body: { text: 'edited' },
        editedAt: 1_020,
      });
      expect(mergeBase({ base: recalledView(target()), asOf: 10 }, { base: page, asOf: 30 }).base).toEqual(
        recalledView(target()),
      );
    });

    it('keeps a recall although a copy as new, read before it, arrives later (a delayed push)', () => {
      const repush = recalledView(target());
      expect(mergeBase({ base: repush, asOf: 10 }, { base: target(), asOf: 10 }).base).toEqual(repush);
    });

    it('keeps replyTo and mentions of the copy that has them', () => {
      const own = target({ replyTo: 4, mentions: ['bob'] });
      expect(mergeBase({ base: own, asOf: 10 }, { base: target(), asOf: 10 }).base).toEqual(own);
    });
  });
});
