import { parseVerdict } from './moderation-verdict';

describe('parseVerdict', () => {
  it('reads the three verdicts', () => {
    expect(parseVerdict('{"action":"allow"}')).toEqual({ action: 'allow' });
    expect(parseVerdict('{"action":"reject","reason":"spam"}')).toEqual({ action: 'reject', reason: 'spam' });
    expect(parseVerdict('{"action":"replace","body":{"text":"***"}}')).toEqual({
      action: 'replace',
      body: { text: '***' },
    });
  });

  it('gives a rejection without a reason a generic one', () => {
    expect(parseVerdict('{"action":"reject"}')).toEqual({
      action: 'reject',
      reason: 'rejected by moderation',
    });
    expect(parseVerdict('{"action":"reject","reason":"  "}')).toEqual({
      action: 'reject',
      reason: 'rejected by moderation',
    });
  });

  it('takes anything else as no verdict at all', () => {
    for (const text of [
      '',
      'allow',
      '[]',
      'null',
      '{"action":"ALLOW"}',
      '{"action":"replace"}',
      '{"action":"replace","body":"x"}',
      '{"action":"replace","body":[1]}',
    ])
      expect(parseVerdict(text)).toBeUndefined();
  });
});
