import { moderationOutcome } from './moderation-outcome';

describe('moderationOutcome', () => {
  const send = { contentType: 'text', body: { text: 'hello' } };
  const open = { failOpen: true, maxBodyBytes: 1024 };
  const closed = { failOpen: false, maxBodyBytes: 1024 };

  it('publishes an allowed send as it is, and remembers the verdict', () => {
    expect(moderationOutcome(send, { action: 'allow' }, closed)).toEqual({
      result: 'allow',
      publish: send.body,
      remember: { action: 'allow' },
    });
  });

  it('refuses a rejected send with `rejected` and its reason, whatever the failure mode', () => {
    for (const options of [open, closed]) {
      const outcome = moderationOutcome(send, { action: 'reject', reason: 'links are not allowed' }, options);
      expect('refuse' in outcome && [outcome.refuse.code, outcome.refuse.message]).toEqual([
        'rejected',
        'links are not allowed',
      ]);
      expect(outcome.remember).toEqual({ action: 'reject', reason: 'links are not allowed' });
      expect(outcome.result).toBe('reject');
    }
  });

  it('publishes a replacement that passes the checks of a client body', () => {
    const outcome = moderationOutcome(send, { action: 'replace', body: { text: '***' } }, closed);
    expect(outcome).toEqual({
      result: 'replace',
      publish: { text: '***' },
      remember: { action: 'replace', body: { text: '***' } },
    });
  });

  it('takes a replacement a client could not send as a failed call', () => {
    const empty = { action: 'replace' as const, body: { text: '' } };
    const opened = moderationOutcome(send, empty, open);
    expect('publish' in opened && opened.publish).toEqual(send.body);
    expect(opened.invalidReplacement?.code).toBe('bad_request');
    const big = { action: 'replace' as const, body: { text: 'x'.repeat(2000) } };
    const refused = moderationOutcome(send, big, closed);
    expect('refuse' in refused && refused.refuse.code).toBe('unavailable');
    expect(refused.invalidReplacement?.code).toBe('too_large');
  });

  it('on a failed call lets the send through (remembered) or refuses it `unavailable` (not remembered)', () => {
    expect(moderationOutcome(send, undefined, open)).toEqual({
      result: 'fail_open',
      publish: send.body,
      remember: { action: 'allow' },
      invalidReplacement: undefined,
    });
    const refused = moderationOutcome(send, undefined, closed);
    expect('refuse' in refused && refused.refuse.code).toBe('unavailable');
    expect(refused.remember).toBeUndefined();
    expect(refused.result).toBe('fail_closed');
  });
});
