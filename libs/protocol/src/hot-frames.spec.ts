import { acceptHotFrame } from './hot-frames';
import { parseClientFrame, validateWithClasses } from './validate-frame';
import type { ClientFrameType } from './client-frames';

const BASES: Record<string, Record<string, unknown>> = {
  send: {
    type: 'send',
    clientMsgId: 'm-1',
    conversationId: 'c:1',
    contentType: 'text',
    body: { text: 'hi' },
  },
  reply: {
    type: 'send',
    clientMsgId: 'm-2',
    conversationId: 'c:1',
    contentType: 'text',
    body: { text: 'yes' },
    replyTo: 1,
    mentions: ['u1', 'u.2'],
  },
  deliver_ack: { type: 'deliver_ack', conversationId: 'c.1', seq: 3 },
  read: { type: 'read', conversationId: 'c_1', seq: 0 },
  typing: { type: 'typing', conversationId: 'c-1' },
  ping: { type: 'ping' },
};

const VALUES: unknown[] = [
  0,
  -1,
  1,
  1.5,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  '',
  'a',
  'a'.repeat(64),
  'a'.repeat(65),
  'bad id!',
  'c:1',
  'm_1',
  'text',
  'image',
  'file',
  'custom',
  'video',
  true,
  false,
  {},
  [],
  [1],
  { a: 1 },
  '3',
  ['u1'],
  ['u1', 'u1'],
  ['bad id!'],
  Array.from({ length: 50 }, (_, i) => `u${i}`),
  Array.from({ length: 51 }, (_, i) => `u${i}`),
];

const BODIES = [
  '{}',
  '{"text":""}',
  '{"text":"hi","n":[1,{"a":null}]}',
  '[]',
  '"text"',
  '{"text":{"deep":[[[]]]}}',
];

/** Valid frames, each field removed or replaced by every value above, extra fields, odd bodies. */
function corpus(): Record<string, unknown>[] {
  const frames: Record<string, unknown>[] = [];
  for (const base of Object.values(BASES)) {
    frames.push(base, { ...base, extra: 1 }, { ...base, reqId: 'r1' });
    for (const key of Object.keys(base)) {
      if (key === 'type') continue;
      const without = { ...base };
      delete without[key];
      frames.push(without);
      for (const value of VALUES) frames.push({ ...base, [key]: value });
    }
    if (base.type === 'send' && !('replyTo' in base))
      for (const body of BODIES)
        frames.push(
          JSON.parse(`${JSON.stringify({ ...base, body: 0 }).replace('"body":0', `"body":${body}`)}`),
        );
  }
  return frames.map((f) => JSON.parse(JSON.stringify(f)) as Record<string, unknown>);
}

describe('acceptHotFrame', () => {
  it('accepts only what the class-validator path accepts, with the same fields', () => {
    let acceptedByBoth = 0;
    let acceptedBySlowOnly = 0;
    for (const frame of corpus()) {
      const fast = acceptHotFrame(frame);
      const slow = validateWithClasses(frame.type as ClientFrameType, frame);
      if (fast) {
        expect({ frame, ok: slow.ok }).toEqual({ frame, ok: true });
        if (slow.ok) expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.frame));
        acceptedByBoth++;
      } else if (slow.ok) acceptedBySlowOnly++;
    }
    // The fast path must really take the frames it is for, not leave them all to the slow one.
    expect(acceptedByBoth).toBeGreaterThan(40);
    expect(acceptedBySlowOnly).toBe(0);
  });

  it('takes every valid hot frame and leaves other types to the class path', () => {
    for (const base of Object.values(BASES)) expect(acceptHotFrame(base)).toBe(base);
    expect(acceptHotFrame({ type: 'sync', reqId: 'r', cursors: {} })).toBeUndefined();
    expect(acceptHotFrame({ type: 'history', reqId: 'r', conversationId: 'c', afterSeq: 0 })).toBeUndefined();
  });

  it('keeps a body as it came, where class-transformer dropped keys or threw', () => {
    const send = (body: string) =>
      parseClientFrame(
        `{"type":"send","clientMsgId":"m1","conversationId":"c1","contentType":"custom","body":${body}}`,
        65_536,
      );
    for (const body of [
      '{"toString":1,"valueOf":[2]}',
      '{"a":{"constructor":{"name":"x"}}}',
      '{"prototype":3}',
    ]) {
      const parsed = send(body);
      expect(parsed.ok && JSON.stringify(parsed.frame.type === 'send' && parsed.frame.body)).toBe(body);
    }
    for (const body of ['{"__proto__":{"admin":true}}', '{"list":[{"__proto__":1}]}'])
      expect(send(body)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });
});
