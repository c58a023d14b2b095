import { createHmac } from 'node:crypto';
import { isSignedBy, signBody } from './signature';

describe('webhook signature', () => {
  const secret = 'a-webhook-secret-of-some-length';
  const raw = JSON.stringify({ messageId: 'm1', preview: 'héllo' });

  it('is the hex HMAC-SHA256 of the raw body, as a receiver computes it with node:crypto', () => {
    const expected = createHmac('sha256', secret).update(raw).digest('hex');
    expect(signBody(raw, secret)).toBe(`sha256=${expected}`);
  });

  it('verifies only the exact body with the same secret', () => {
    const header = signBody(raw, secret);
    expect(isSignedBy(raw, header, secret)).toBe(true);
    expect(isSignedBy(raw + ' ', header, secret)).toBe(false);
    expect(isSignedBy(raw, header, 'another-secret-of-some-length')).toBe(false);
    expect(isSignedBy(raw, undefined, secret)).toBe(false);
    expect(isSignedBy(raw, 'sha256=00', secret)).toBe(false);
  });
});
