import { MembershipMemo } from './membership-memo';

describe('MembershipMemo', () => {
  const memo = (limits = { maxConversations: 3, ttlMs: 1000 }) => {
    const m = new MembershipMemo(limits);
    m.trust();
    return m;
  };

  it('answers what was stored until it ages out', () => {
    const m = memo();
    m.store('c1', ['alice', 'bob'], m.beginLoad(), 0);
    expect(m.get('c1', 999)?.set.has('bob')).toBe(true);
    expect(m.get('c1', 999)?.list).toEqual(['alice', 'bob']);
    expect(m.get('c1', 1000)).toBeUndefined();
  });

  it('forgets a conversation when it is invalidated', () => {
    const m = memo();
    m.store('c1', ['alice'], m.beginLoad(), 0);
    m.invalidate('c1');
    expect(m.get('c1', 1)).toBeUndefined();
  });

  it('drops a load that an invalidation overtook (it may hold the members from before)', () => {
    const m = memo();
    const since = m.beginLoad();
    m.invalidate('c1');
    m.store('c1', ['alice', 'carol'], since, 0);
    expect(m.get('c1', 1)).toBeUndefined();
    // A load begun after the invalidation is kept.
    m.store('c1', ['alice'], m.beginLoad(), 0);
    expect(m.get('c1', 1)?.list).toEqual(['alice']);
  });

  it('keeps nothing while it does not hear invalidations, and empties when it stops hearing them', () => {
    const m = new MembershipMemo({ maxConversations: 3, ttlMs: 1000 });
    m.store('c1', ['alice'], m.beginLoad(), 0);
    expect(m.get('c1', 1)).toBeUndefined();

    m.trust();
    m.store('c1', ['alice'], m.beginLoad(), 0);
    const since = m.beginLoad();
    m.distrust();
    expect(m.isTrusted).toBe(false);
    expect(m.get('c1', 1)).toBeUndefined();
    m.trust();
    // Loaded before the listener came back: the change in between may be missing from it.
    m.store('c2', ['bob'], since, 0);
    expect(m.get('c2', 1)).toBeUndefined();
  });

  it('drops the oldest loaded conversation beyond its size', () => {
    const m = memo();
    for (const c of ['c1', 'c2', 'c3', 'c4']) m.store(c, ['alice'], m.beginLoad(), 0);
    expect(m.size).toBe(3);
    expect(m.get('c1', 1)).toBeUndefined();
    expect(m.get('c4', 1)).toBeDefined();
  });
});
