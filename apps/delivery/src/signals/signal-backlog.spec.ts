import { SignalBacklog } from './signal-backlog';

describe('SignalBacklog', () => {
  it('is behind once a partition has had hundreds of signals waiting after every batch for over a second', () => {
    const backlog = new SignalBacklog();
    expect(backlog.isBehind(0)).toBe(false);
    backlog.observe(0, 500, 1_000);
    expect(backlog.isBehind(1_500)).toBe(false);
    backlog.observe(0, 300, 2_100);
    expect(backlog.isBehind(2_200)).toBe(true);
    // Caught up, or nearly: a few signals left after a batch is steady traffic.
    backlog.observe(0, 12, 2_300);
    expect(backlog.isBehind(2_400)).toBe(false);
  });

  it('forgets a partition from which no batch came for a while', () => {
    const backlog = new SignalBacklog();
    backlog.observe(1, 1_000, 0);
    backlog.observe(1, 1_000, 1_500);
    expect(backlog.isBehind(1_600)).toBe(true);
    expect(backlog.isBehind(3_600)).toBe(false);
  });
});
