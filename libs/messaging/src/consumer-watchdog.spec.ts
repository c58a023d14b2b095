import { ConsumerWatchdog } from './consumer-watchdog';

describe('ConsumerWatchdog', () => {
  it('calls a consumer stalled only after a silence longer than the limit', () => {
    const w = new ConsumerWatchdog(30_000, 0);
    expect(w.stalled(30_000, 0)).toBe(false);
    expect(w.stalled(30_001, 0)).toBe(true);
    w.activity(30_001);
    expect(w.stalled(60_000, 0)).toBe(false);
  });

  it('never while a batch is being handled (a long batch is not a stuck fetch loop)', () => {
    const w = new ConsumerWatchdog(30_000, 0);
    expect(w.stalled(90_000, 1)).toBe(false);
    expect(w.stalled(90_000, 0)).toBe(true);
  });

  it('ignores an activity time older than the last one', () => {
    const w = new ConsumerWatchdog(1_000, 5_000);
    w.activity(100);
    expect(w.stalled(5_900, 0)).toBe(false);
  });
});
