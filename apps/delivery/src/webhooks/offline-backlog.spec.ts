import { OfflineBacklog } from './offline-backlog';

describe('OfflineBacklog', () => {
  it('counts undelivered notices and those behind them, and knows the oldest', () => {
    const backlog = new OfflineBacklog();
    expect([backlog.depth(), backlog.oldestStoredAt()]).toEqual([0, undefined]);
    backlog.begin(0, 5, [
      { messageId: 'a', storedAt: 100 },
      { messageId: 'b', storedAt: 200 },
    ]);
    backlog.begin(1, 0, [{ messageId: 'c', storedAt: 150 }]);
    expect([backlog.depth(), backlog.oldestStoredAt()]).toEqual([8, 100]);
    backlog.delivered(0, 'a');
    expect([backlog.depth(), backlog.oldestStoredAt()]).toEqual([7, 150]);
    backlog.end(1);
    expect([backlog.depth(), backlog.oldestStoredAt()]).toEqual([6, 200]);
    backlog.end(0);
    expect([backlog.depth(), backlog.oldestStoredAt()]).toEqual([0, undefined]);
  });
});
