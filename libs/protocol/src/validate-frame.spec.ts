import { parseClientFrame } from './validate-frame';

const parse = (value: unknown) =>
  parseClientFrame(typeof value === 'string' ? value : JSON.stringify(value), 32 * 1024);
const send = {
  type: 'send',
  clientMsgId: 'c1',
  conversationId: 'conv:1',
  contentType: 'text',
  body: { text: 'hi' },
};

describe('parseClientFrame', () => {
  it('accepts a valid send', () => {
    const result = parse(send);
    expect(result.ok).toBe(true);
  });

  it.each([
    ['not JSON', '{nope', /valid JSON/],
    ['an array', [], /JSON object/],
    ['an unknown type', { type: 'fly' }, /unknown frame type/],
    ['an unknown field', { ...send, extra: 1 }, /unknown field extra/],
    ['a bad clientMsgId', { ...send, clientMsgId: 'a b' }, /clientMsgId/],
    ['a too long conversation id', { ...send, conversationId: 'x'.repeat(65) }, /conversationId/],
    ['an empty text', { ...send, body: { text: '' } }, /body.text/],
    ['a non-object body', { ...send, body: 'hi' }, /body/],
    ['a bad contentType', { ...send, contentType: 'video' }, /contentType/],
    [
      'history with both bounds',
      { type: 'history', reqId: 'r', conversationId: 'c', afterSeq: 1, beforeSeq: 5 },
      /exactly one/,
    ],
    ['history with no bound', { type: 'history', reqId: 'r', conversationId: 'c' }, /exactly one/],
    ['sync with a negative cursor', { type: 'sync', reqId: 'r', cursors: { c: -1 } }, /non-negative/],
    ['sync with a limit over 200', { type: 'sync', reqId: 'r', limit: 201 }, /limit/],
    ['a fractional seq', { type: 'read', conversationId: 'c', seq: 1.5 }, /seq/],
  ])('rejects %s as bad_request', (_name, frame, message) => {
    const result = parse(frame);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('bad_request');
      expect(result.error.message).toMatch(message);
    }
  });

  it('refuses bodies PostgreSQL cannot store: NUL, lone surrogates, absurd nesting', () => {
    const nested: Record<string, unknown> = {};
    let cursor = nested;
    for (let i = 0; i < 100; i++) cursor = cursor.n = {};
    for (const body of [
      { text: 'a\u0000b' },
      { text: 'x', k: ['\ud800'] },
      { text: 'x', ['\udc00']: 1 },
      { text: 'x', nested },
    ]) {
      const result = parse({ ...send, body });
      expect(result).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
  });

  it('refuses deep nesting without overflowing the stack, anywhere in the frame', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    for (const text of [
      `{"type":"ping","x":${deep}}`,
      `{"type":"send","clientMsgId":"a","conversationId":"c","contentType":"custom","body":{"d":${deep}}}`,
    ]) {
      expect(parseClientFrame(text, 64 * 1024)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
  });

  it('refuses null for optional fields', () => {
    expect(parse({ type: 'history', reqId: 'r', conversationId: 'c', afterSeq: null })).toMatchObject({
      ok: false,
      ref: 'r',
    });
    expect(parse({ type: 'sync', reqId: 'r', limit: null })).toMatchObject({ ok: false });
  });

  it('refuses seqs beyond the safe integer range', () => {
    expect(parse({ type: 'read', conversationId: 'c', seq: 1e300 })).toMatchObject({ ok: false });
    expect(
      parse({ type: 'recall', clientMsgId: 'x', conversationId: 'c', targetSeq: 2 ** 60 }),
    ).toMatchObject({ ok: false });
    expect(parse({ type: 'history', reqId: 'r', conversationId: 'c', afterSeq: 2 ** 63 })).toMatchObject({
      ok: false,
    });
  });

  it('rejects prototype-named fields like any unknown field', () => {
    for (const text of [
      '{"type":"ping","__proto__":{}}',
      '{"type":"ping","constructor":1}',
      '{"type":"ping","prototype":{}}',
    ]) {
      const result = parseClientFrame(text, 1024);
      expect(result).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
  });

  it('answers an oversized body with too_large and keeps the ref', () => {
    const result = parse({ ...send, contentType: 'custom', body: { blob: 'x'.repeat(33 * 1024) } });
    expect(result).toMatchObject({ ok: false, ref: 'c1', error: { code: 'too_large' } });
  });

  it('carries reqId as the ref of a bad request', () => {
    expect(parse({ type: 'sync', reqId: 'r9', limit: 0 })).toMatchObject({ ok: false, ref: 'r9' });
  });

  it('accepts ping and every query frame', () => {
    for (const frame of [
      { type: 'ping' },
      { type: 'sync', reqId: 'r' },
      { type: 'sync', reqId: 'r', cursors: { 'a.b:c': 3 }, limit: 10 },
      { type: 'history', reqId: 'r', conversationId: 'c', beforeSeq: 10, limit: 5 },
      { type: 'conversations', reqId: 'r' },
      { type: 'typing', conversationId: 'c' },
      { type: 'deliver_ack', conversationId: 'c', seq: 0 },
      { type: 'recall', clientMsgId: 'x', conversationId: 'c', targetSeq: 2 },
    ]) {
      expect(parse(frame)).toMatchObject({ ok: true });
    }
  });

  it('keeps every sync cursor the client named, prototype-like names too (they are then not a member)', () => {
    const parsed = parseClientFrame(
      '{"type":"sync","reqId":"r","cursors":{"constructor":0,"__proto__":1,"c1":2}}',
      1000,
    );
    expect(parsed.ok && parsed.frame.type === 'sync' && Object.keys(parsed.frame.cursors ?? {})).toEqual([
      'constructor',
      '__proto__',
      'c1',
    ]);
    expect(parseClientFrame('{"type":"sync","reqId":"r","cursors":{"toString":-1}}', 1000)).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });

  describe('edit, react, hide, replies and mentions', () => {
    const edit = { type: 'edit', clientMsgId: 'e1', conversationId: 'c1', targetSeq: 3, body: { text: 'x' } };
    const react = {
      type: 'react',
      clientMsgId: 'r1',
      conversationId: 'c1',
      targetSeq: 3,
      emoji: '👍🏽',
      op: 'add',
    };
    const hide = { type: 'hide', reqId: 'h1', conversationId: 'c1', seq: 3 };

    it('accepts each of them, and a send with a reply and mentions', () => {
      for (const frame of [edit, react, hide, { ...send, replyTo: 2, mentions: ['u1', 'u2'] }])
        expect(parse(frame)).toMatchObject({ ok: true, frame });
    });

    it.each([
      ['an edit without a target', { ...edit, targetSeq: 0 }],
      ['an edit whose body is not an object', { ...edit, body: 'x' }],
      ['an edit whose body cannot be stored', { ...edit, body: { text: 'a\u0000' } }],
      ['a reaction with whitespace', { ...react, emoji: 'a b' }],
      ['a reaction of 33 characters', { ...react, emoji: 'x'.repeat(33) }],
      ['an empty reaction', { ...react, emoji: '' }],
      ['a reaction with another op', { ...react, op: 'toggle' }],
      ['a hide without a seq', { type: 'hide', reqId: 'h1', conversationId: 'c1' }],
      ['a reply to seq 0', { ...send, replyTo: 0 }],
      ['no mentions', { ...send, mentions: [] }],
      ['the same mention twice', { ...send, mentions: ['u1', 'u1'] }],
      ['51 mentions', { ...send, mentions: Array.from({ length: 51 }, (_, i) => `u${i}`) }],
      ['a mention that is no id', { ...send, mentions: ['a b'] }],
    ])('refuses %s with bad_request', (_, frame) => {
      expect(parse(frame)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    });

    it('counts an emoji’s length in code points: 32 four-byte emoji are allowed', () => {
      expect(parse({ ...react, emoji: '😀'.repeat(32) }).ok).toBe(true);
    });

    it('keeps a body exactly as sent when the frame takes the class path (keys named like Object members too)', () => {
      const body = { text: 'x', toString: 'kept', nested: { valueOf: 1 } };
      expect(parse({ ...send, replyTo: 1, body })).toMatchObject({ ok: true, frame: { body } });
      expect(parse({ ...edit, body })).toMatchObject({ ok: true, frame: { body } });
    });
  });
});
