import type { MovedCursor } from '@im/database';
import { planReceipt } from './receipt-plan';

const moved = (type: 'direct' | 'group', userId = 'bob'): MovedCursor => ({
  conversationId: 'c1',
  userId,
  seq: 7,
  conversationType: type,
  directMembers: type === 'direct' ? ['alice', 'bob'] : [],
});

describe('planReceipt', () => {
  it('tells the other member of a direct conversation of deliveries, not the acking user', () => {
    expect(planReceipt('delivered', moved('direct'), 'b1')).toEqual({
      frame: { type: 'receipt', conversationId: 'c1', kind: 'delivered', userId: 'bob', seq: 7 },
      userIds: ['alice'],
      except: { userId: 'bob', deviceId: 'b1' },
    });
  });

  it('tells the other member and the reader’s other devices of a read in a direct conversation', () => {
    expect(planReceipt('read', moved('direct'), 'b1')).toMatchObject({
      userIds: ['alice', 'bob'],
      except: { userId: 'bob', deviceId: 'b1' },
    });
  });

  // Issue 13: every deliver_ack of a group was pushed to every other member: N² receipt frames.
  it('pushes nothing of a group delivery, and a group read only to the reader’s own devices', () => {
    expect(planReceipt('delivered', moved('group'), 'b1')).toBeNull();
    expect(planReceipt('read', moved('group'), 'b1')).toMatchObject({
      frame: { kind: 'read', userId: 'bob', seq: 7 },
      userIds: ['bob'],
      except: { userId: 'bob', deviceId: 'b1' },
    });
  });
});
