import { firstAfterEnd, gapsByKind, longestGap, longestWait } from './gaps';

describe('longestGap', () => {
  const acks = [0, 100, 200, 5_200, 5_300, 5_400];

  it('is the longest stretch without an event that overlaps the window', () => {
    expect(longestGap(acks, 150, 300, 10_000)).toBe(5_000);
    expect(longestGap(acks, 5_250, 5_350, 10_000)).toBe(100);
  });

  it('counts a stall that began before the fault ended whole, even when it lasts past the end', () => {
    expect(longestGap(acks, 300, 400, 10_000)).toBe(5_000);
  });

  it('runs a stall with no event after it to the end of the observation', () => {
    expect(longestGap(acks, 5_500, 6_000, 9_000)).toBe(9_000 - 5_400);
    expect(longestGap([], 1_000, 2_000, 3_000)).toBe(2_000);
  });

  it('starts at the window when no event came before it', () => {
    expect(longestGap([500, 600], 100, 200, 1_000)).toBe(400);
  });
});

describe('firstAfterEnd', () => {
  it('is the time from the end of the fault to the first event after it', () => {
    expect(firstAfterEnd([0, 100, 9_000], 5_000, 20_000)).toBe(4_000);
    expect(firstAfterEnd([0, 4_500, 5_200], 5_000, 20_000)).toBe(0);
    expect(firstAfterEnd([0], 5_000, 8_000)).toBe(3_000);
  });
});

describe('longestWait', () => {
  it('is the longest send-to-ack time of the sends waiting during the window', () => {
    const sends = [
      { queuedAt: 0, ackedAt: 50 },
      { queuedAt: 100, ackedAt: 7_100 },
      { queuedAt: 8_000, ackedAt: 8_010 },
      { queuedAt: 9_000 },
    ];
    expect(longestWait(sends, 1_000, 2_000, 20_000)).toBe(7_000);
    expect(longestWait(sends, 7_500, 8_500, 20_000)).toBe(10);
    expect(longestWait(sends, 10_000, 11_000, 20_000)).toBe(11_000);
    expect(longestWait([], 0, 1, 2)).toBe(0);
  });
});

describe('gapsByKind', () => {
  it('keeps the largest of each figure per kind and skips faults not measured', () => {
    expect(
      gapsByKind([
        { kind: 'kill9', ackGapMs: 3_000, deliveryGapMs: 2_000, ackWaitMs: 9_000 },
        { kind: 'kill9', ackGapMs: 8_000, deliveryGapMs: 1_000, ackWaitMs: 4_000 },
        { kind: 'rolling', ackGapMs: 1_000, deliveryGapMs: 1_500, ackWaitMs: 2_000 },
        { kind: 'kafka' },
      ]),
    ).toEqual({
      kill9: { ackMs: 8_000, deliveryMs: 2_000, ackWaitMs: 9_000 },
      rolling: { ackMs: 1_000, deliveryMs: 1_500, ackWaitMs: 2_000 },
    });
  });
});
