import type { ConversationsRepository } from '@im/database';
import type { MembershipService } from '@im/realtime';
import { MembershipChanges } from './membership-changes';

describe('MembershipChanges', () => {
  function setup(removed = true) {
    const calls: string[] = [];
    const conversations = {
      addMembers: async (id: string, ids: string[]) => void calls.push(`add ${id} ${ids.join(',')}`),
      removeMember: async (id: string, userId: string) => {
        calls.push(`remove ${id} ${userId}`);
        return removed;
      },
    } as unknown as ConversationsRepository;
    const membership = {
      invalidate: async (id: string) => void calls.push(`invalidate ${id}`),
    } as unknown as MembershipService;
    return { calls, changes: new MembershipChanges(conversations, membership) };
  }

  it('drops the cached membership after adding, never before the write', async () => {
    const { calls, changes } = setup();
    await changes.addMembers('c1', ['u1', 'u2']);
    expect(calls).toEqual(['add c1 u1,u2', 'invalidate c1']);
  });

  it('drops it after a removal', async () => {
    const { calls, changes } = setup();
    expect(await changes.removeMember('c1', 'u1')).toBe(true);
    expect(calls).toEqual(['remove c1 u1', 'invalidate c1']);
  });

  it('leaves the caches alone when the user was not a member', async () => {
    const { calls, changes } = setup(false);
    expect(await changes.removeMember('c1', 'u9')).toBe(false);
    expect(calls).toEqual(['remove c1 u9']);
  });
});
