import { PendingPushes } from './pending-pushes';
import { PendingPush } from './repush-schedule';

const push = (over: Partial<PendingPush> = {}): PendingPush => ({
  userId: 'bob',
  deviceId: 'phone',
  connId: 'c1',
  conversationId: 'g1',
  fromSeq: 1,
  seq: 1,
  attempt: 0,
  ...over,
});

describe('PendingPushes', () => {
  it('keeps one entry per device and conversation, widened to every pushed seq', () => {
    const p = new PendingPushes();
    p.add(push({ fromSeq: 5, seq: 5 }), 2000);
    p.add(push({ fromSeq: 3, seq: 3 }), 2100);
    p.add(push({ fromSeq: 7, seq: 7 }), 2200);
    p.add(push({ deviceId: 'laptop', fromSeq: 7, seq: 7 }), 2200);
    expect(p.size).toBe(2);
    expect(p.takeDue(1999, 10)).toEqual([]);
    expect(p.takeDue(2000, 10)).toEqual([push({ fromSeq: 3, seq: 7 })]);
    expect(p.takeDue(2200, 10)).toEqual([push({ deviceId: 'laptop', fromSeq: 7, seq: 7 })]);
    expect(p.size).toBe(0);
  });

  it('lets a new push pull a backed-off entry forward, so its message is not re-pushed late', () => {
    const p = new PendingPushes();
    p.add(push({ seq: 4, fromSeq: 4, attempt: 5 }), 60_000);
    p.add(push({ seq: 9, fromSeq: 9 }), 2000);
    expect(p.takeDue(2000, 10)).toEqual([push({ fromSeq: 4, seq: 9, attempt: 0 })]);
  });

  it('replaces the entry of a connection the device has since replaced', () => {
    const p = new PendingPushes();
    p.add(push({ connId: 'old', seq: 3, fromSeq: 1 }), 1000);
    p.add(push({ connId: 'new', seq: 5, fromSeq: 5 }), 2000);
    expect(p.takeDue(5000, 10)).toEqual([push({ connId: 'new', seq: 5, fromSeq: 5 })]);
  });

  it('drops what an ack covers and narrows what it covers part way', () => {
    const p = new PendingPushes();
    p.add(push({ fromSeq: 1, seq: 6 }), 1000);
    p.add(push({ conversationId: 'd1', fromSeq: 2, seq: 2 }), 1000);
    p.acknowledge([
      { userId: 'bob', deviceId: 'phone', conversationId: 'g1', seq: 4 },
      { userId: 'bob', deviceId: 'phone', conversationId: 'd1', seq: 2 },
      { userId: 'bob', deviceId: 'tablet', conversationId: 'g1', seq: 9 },
    ]);
    expect(p.takeDue(1000, 10)).toEqual([push({ fromSeq: 5, seq: 6 })]);
    p.add(push({ fromSeq: 1, seq: 6 }), 1000);
    p.acknowledge([{ userId: 'bob', deviceId: 'phone', conversationId: 'g1', seq: 6 }]);
    expect(p.size).toBe(0);
  });

  it('hands out at most the limit per round and keeps the rest due', () => {
    const p = new PendingPushes();
    for (let i = 0; i < 5; i++) p.add(push({ deviceId: `d${i}` }), 1000);
    expect(p.takeDue(1000, 2)).toHaveLength(2);
    expect(p.takeDue(1000, 10)).toHaveLength(3);
    expect(p.takeDue(1000, 10)).toHaveLength(0);
  });
});
