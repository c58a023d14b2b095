import {
  editRefusal,
  mentionsRefusal,
  reactionRefusal,
  recallRefusal,
  type TargetFacts,
} from './target-rules';

describe('target rules', () => {
  const now = Date.parse('2026-12-05T12:00:00Z');
  const c = { conversationId: 'c1', targetSeq: 5, senderId: 'alice', now };
  const text: TargetFacts = {
    content_type: 'text',
    sender_id: 'alice',
    sent_at: new Date(now - 60_000),
    recalled: false,
  };
  const edit = { body: { text: 'fixed' }, windowSeconds: 3600, maxBodyBytes: 1024 };
  const codeOf = (e: { code: string } | undefined) => e?.code;

  describe('edit', () => {
    it('lets the sender edit within the window', () => {
      expect(editRefusal(text, c, edit)).toBeUndefined();
    });
    it('refuses a target that is not stored with not_found', () => {
      expect(codeOf(editRefusal(null, c, edit))).toBe('not_found');
    });
    it('refuses control messages and recalled messages with bad_request', () => {
      for (const content_type of ['recall', 'edit', 'reaction'])
        expect(codeOf(editRefusal({ ...text, content_type }, c, edit))).toBe('bad_request');
      expect(codeOf(editRefusal({ ...text, recalled: true }, c, edit))).toBe('bad_request');
    });
    it('refuses anyone but the sender, and the sender after the window, with forbidden', () => {
      expect(codeOf(editRefusal(text, { ...c, senderId: 'bob' }, edit))).toBe('forbidden');
      expect(codeOf(editRefusal(text, { ...c, now: now + 3600_000 }, edit))).toBe('forbidden');
      expect(codeOf(editRefusal({ ...text, content_type: 'system', sender_id: 'system' }, c, edit))).toBe(
        'forbidden',
      );
    });
    it('holds the new body to the rules of the target’s content type', () => {
      expect(codeOf(editRefusal(text, c, { ...edit, body: { text: '' } }))).toBe('bad_request');
      expect(
        editRefusal({ ...text, content_type: 'custom' }, c, { ...edit, body: { any: 1 } }),
      ).toBeUndefined();
      expect(codeOf(editRefusal(text, c, { ...edit, body: { text: 'x'.repeat(2000) } }))).toBe('too_large');
    });
  });

  describe('reaction', () => {
    it('lets any member react to a message that says something, even someone else’s or the system’s', () => {
      expect(reactionRefusal(text, { ...c, senderId: 'bob' })).toBeUndefined();
      expect(reactionRefusal({ ...text, content_type: 'system', sender_id: 'system' }, c)).toBeUndefined();
    });
    it('refuses a missing target, control messages and recalled messages', () => {
      expect(codeOf(reactionRefusal(null, c))).toBe('not_found');
      expect(codeOf(reactionRefusal({ ...text, content_type: 'reaction' }, c))).toBe('bad_request');
      expect(codeOf(reactionRefusal({ ...text, recalled: true }, c))).toBe('bad_request');
    });
  });

  describe('recall', () => {
    const rules = { admin: false, windowSeconds: 3600 };
    it('lets the sender recall within the window, and an admin anything that says something', () => {
      expect(recallRefusal(text, c, rules)).toBeUndefined();
      expect(
        recallRefusal(text, { ...c, senderId: 'bob', now: now + 1e9 }, { ...rules, admin: true }),
      ).toBeUndefined();
    });
    it('refuses control messages, even to an admin', () => {
      for (const content_type of ['recall', 'edit', 'reaction'])
        expect(codeOf(recallRefusal({ ...text, content_type }, c, { ...rules, admin: true }))).toBe(
          'bad_request',
        );
    });
    it('refuses others and late recalls with forbidden, a missing target with not_found', () => {
      expect(codeOf(recallRefusal(text, { ...c, senderId: 'bob' }, rules))).toBe('forbidden');
      expect(codeOf(recallRefusal(text, { ...c, now: now + 3600_000 }, rules))).toBe('forbidden');
      expect(codeOf(recallRefusal(null, c, rules))).toBe('not_found');
    });
  });

  it('mentions: members only, naming the others', () => {
    expect(mentionsRefusal(['bob'], ['alice', 'bob'])).toBeUndefined();
    const refusal = mentionsRefusal(['bob', 'mallory'], ['alice', 'bob']);
    expect(refusal?.code).toBe('bad_request');
    expect(refusal?.message).toContain('mallory');
  });
});
