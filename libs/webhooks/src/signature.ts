import { createHmac, timingSafeEqual } from 'node:crypto';

/** `X-IM-Signature`: the hex HMAC-SHA256 of the raw body, keyed with WEBHOOK_SECRET. */
export const signBody = (rawBody: string, secret: string): string =>
  `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;

/** What a receiver does with the header; kept here so the tests and the README show the same check. */
export function isSignedBy(rawBody: string, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(rawBody, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
