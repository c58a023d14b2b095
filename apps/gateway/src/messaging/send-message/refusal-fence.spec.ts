import { RefusalFence } from './refusal-fence';

describe('RefusalFence', () => {
  it('refuses later sends to a conversation with the code of a refusal that may pass', () => {
    const fence = new RefusalFence();
    expect(fence.verdict('c1', 'a', 0)).toBeUndefined();
    fence.refused('c1', 'a', 'unavailable', 0);
    expect(fence.verdict('c1', 'b', 10)).toBe('unavailable');
    fence.refused('c1', 'b', 'unavailable', 10);
    // Another conversation of the connection is not held up.
    expect(fence.verdict('c2', 'x', 10)).toBeUndefined();
  });

  it('lets the refused sends through only in the order they were refused', () => {
    const fence = new RefusalFence();
    fence.refused('c1', 'a', 'rate_limited', 0);
    expect(fence.verdict('c1', 'b', 1)).toBe('rate_limited');
    fence.refused('c1', 'b', 'rate_limited', 1);
    // An early copy of b, on the wire before a's resend, must not overtake a.
    expect(fence.verdict('c1', 'b', 500)).toBe('rate_limited');
    fence.refused('c1', 'b', 'rate_limited', 500);
    expect(fence.verdict('c1', 'a', 1000)).toBeUndefined();
    expect(fence.verdict('c1', 'c', 1001)).toBe('rate_limited');
    fence.refused('c1', 'c', 'rate_limited', 1001);
    expect(fence.verdict('c1', 'b', 1002)).toBeUndefined();
    expect(fence.verdict('c1', 'c', 1003)).toBeUndefined();
    expect(fence.verdict('c1', 'd', 1004)).toBeUndefined();
  });

  // Regression (chaos short profile, seed 1840918576): x refused, a refused behind it, x resent,
  // then b (sent before the client knew of a's refusal) was accepted ahead of a's resend.
  it('keeps the fence up after the first refused send passes while others still wait', () => {
    const fence = new RefusalFence();
    fence.refused('c1', 'x', 'unavailable', 0);
    expect(fence.verdict('c1', 'a', 1)).toBe('unavailable');
    fence.refused('c1', 'a', 'unavailable', 1);
    expect(fence.verdict('c1', 'x', 2)).toBeUndefined();
    expect(fence.verdict('c1', 'b', 3)).toBe('unavailable');
    fence.refused('c1', 'b', 'unavailable', 3);
    expect(fence.verdict('c1', 'a', 4)).toBeUndefined();
    expect(fence.verdict('c1', 'b', 5)).toBeUndefined();
  });

  it('puts a resend refused again back in its place, ahead of the later ones', () => {
    const fence = new RefusalFence();
    fence.refused('c1', 'a', 'unavailable', 0);
    fence.refused('c1', 'b', 'unavailable', 1);
    expect(fence.verdict('c1', 'a', 2)).toBeUndefined();
    fence.refused('c1', 'a', 'unavailable', 3); // its check failed again
    expect(fence.verdict('c1', 'b', 4)).toBe('unavailable');
    expect(fence.verdict('c1', 'a', 5)).toBeUndefined();
    expect(fence.verdict('c1', 'b', 6)).toBeUndefined();
  });

  it('never holds back a copy of a send already accepted, nor waits for it', () => {
    const fence = new RefusalFence();
    fence.accepted('a');
    fence.refused('c1', 'x', 'unavailable', 0);
    // a's first copy is ahead of x: a later copy of it is answered by deduplication.
    expect(fence.verdict('c1', 'a', 1)).toBeUndefined();
    fence.refused('c1', 'a', 'unavailable', 1);
    expect(fence.verdict('c1', 'x', 2)).toBeUndefined();
    expect(fence.verdict('c1', 'b', 3)).toBeUndefined();
  });

  // Regression (chaos short profile, seed 957339601): a copy of x was refused during a Redis
  // outage while x's first copy was still being published; x was then accepted and acked, so
  // the client never resent it, and the fence refused a and everything after it for 60 s.
  it('stops waiting for a refused send once an earlier copy of it is accepted', () => {
    const fence = new RefusalFence();
    fence.refused('c1', 'x', 'unavailable', 0);
    expect(fence.verdict('c1', 'a', 1)).toBe('unavailable');
    fence.refused('c1', 'a', 'unavailable', 1);
    fence.accepted('x');
    expect(fence.verdict('c1', 'b', 2)).toBe('unavailable');
    expect(fence.verdict('c1', 'a', 3)).toBeUndefined();
    expect(fence.verdict('c1', 'b', 4)).toBeUndefined();
  });

  it('drops the fence when the only refused send turns out accepted', () => {
    const fence = new RefusalFence();
    fence.refused('c1', 'x', 'unavailable', 0);
    fence.accepted('x');
    expect(fence.verdict('c1', 'b', 1)).toBeUndefined();
  });

  it('tells a send checked meanwhile that an earlier send was refused (its publish failed)', () => {
    const fence = new RefusalFence();
    const mark = fence.mark('c1');
    expect(fence.refusedSince('c1', mark)).toBeUndefined();
    fence.refused('c1', 'a', 'unavailable', 0);
    expect(fence.refusedSince('c1', mark)).toBe('unavailable');
    expect(fence.refusedSince('c2', fence.mark('c2'))).toBeUndefined();
  });

  it('does not wait for a refused send that was then refused for good', () => {
    const fence = new RefusalFence();
    fence.refused('c1', 'a', 'unavailable', 0);
    fence.refused('c1', 'b', 'unavailable', 1);
    expect(fence.verdict('c1', 'a', 2)).toBeUndefined();
    fence.refused('c1', 'a', 'forbidden', 3); // its resend met a removed membership
    expect(fence.verdict('c1', 'b', 4)).toBeUndefined();
  });

  it('is not raised by refusals a resend cannot pass', () => {
    const fence = new RefusalFence();
    for (const code of ['bad_request', 'forbidden', 'not_found', 'too_large', 'internal'] as const) {
      fence.refused('c1', 'a', code, 0);
      expect(fence.verdict('c1', 'b', 1)).toBeUndefined();
    }
  });

  it('lapses a fixed time after it was raised, however often the sends behind it are refused', () => {
    const fence = new RefusalFence(1000);
    fence.refused('c1', 'a', 'unavailable', 0);
    expect(fence.verdict('c1', 'b', 900)).toBe('unavailable');
    fence.refused('c1', 'b', 'unavailable', 900);
    expect(fence.verdict('c1', 'b', 1001)).toBeUndefined();
  });
});
