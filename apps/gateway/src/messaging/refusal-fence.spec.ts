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

  it('opens when the oldest refused send is resent, so the resends go through in their order', () => {
    const fence = new RefusalFence();
    fence.refused('c1', 'a', 'rate_limited', 0);
    expect(fence.verdict('c1', 'b', 1)).toBe('rate_limited');
    fence.refused('c1', 'b', 'rate_limited', 1);
    // An early copy of b, on the wire before a's resend, must not overtake a.
    expect(fence.verdict('c1', 'b', 500)).toBe('rate_limited');
    fence.refused('c1', 'b', 'rate_limited', 500);
    expect(fence.verdict('c1', 'a', 1000)).toBeUndefined();
    expect(fence.verdict('c1', 'b', 1001)).toBeUndefined();
    expect(fence.verdict('c1', 'c', 1002)).toBeUndefined();
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
