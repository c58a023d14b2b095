import { randomUUID } from 'node:crypto';
import { setup } from '../support/context';
import { Frame, TestClient } from '../support/test-client';
import { isAnswerTo } from '../support/helpers';

/**
 * `error` (docs/protocol.md §4): a bad frame gets the right code, with `ref` = its clientMsgId/reqId,
 * never closes the connection, and never loses the sends around it.
 */
describe('bad frames', () => {
  const ctx = setup();
  let a: TestClient;
  let conversationId: string;

  beforeAll(async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    conversationId = await ctx.newConversation([alice, bob]);
    a = await ctx.connect(alice);
  });

  const validSend = (clientMsgId: string) => ({
    type: 'send',
    clientMsgId,
    conversationId,
    contentType: 'text',
    body: { text: 'fine' },
  });

  /**
   * Sends a valid send, the bad frame and another valid send back to back; returns the error
   * answering the bad frame after checking both sends were acked and the connection lives.
   */
  async function sandwich(bad: unknown, binary = false): Promise<Frame> {
    const from = a.frames.length;
    const before = `before-${randomUUID().slice(0, 8)}`;
    const after = `after-${randomUUID().slice(0, 8)}`;
    a.sendRaw(validSend(before));
    if (binary) a.ws.send(Buffer.from(JSON.stringify(bad)), { binary: true });
    else a.sendRaw(bad);
    a.sendRaw(validSend(after));
    const [ackBefore, ackAfter] = await Promise.all([
      a.next((f) => isAnswerTo(f, before), 15_000, from),
      a.next((f) => isAnswerTo(f, after), 15_000, from),
    ]);
    expect(ackBefore.type).toBe('ack');
    expect(ackAfter.type).toBe('ack');
    expect(ackAfter.seq).toBeGreaterThan(ackBefore.seq);
    const errors = a.frames
      .slice(from)
      .filter((f) => f.type === 'error' && f.ref !== before && f.ref !== after);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toEqual({
      type: 'error',
      ...(errors[0].ref !== undefined ? { ref: expect.any(String) } : {}),
      code: expect.any(String),
      message: expect.any(String),
    });
    expect(a.closeCode).toBeUndefined();
    return errors[0];
  }

  const send = (over: Record<string, unknown>) => ({ ...validSend('bad-send'), ...over });

  it('answers invalid JSON with bad_request', async () => {
    const error = await sandwich('{"type":"send", nope');
    expect(error).toMatchObject({ code: 'bad_request' });
    expect(error.ref).toBeUndefined();
  });

  it('answers a JSON value that is not an object with bad_request', async () => {
    expect(await sandwich('[1,2,3]')).toMatchObject({ code: 'bad_request' });
    expect(await sandwich('"send"')).toMatchObject({ code: 'bad_request' });
  });

  it('answers an unknown or missing type with bad_request and the ref', async () => {
    expect(await sandwich({ type: 'fly', reqId: 'r-fly' })).toMatchObject({
      code: 'bad_request',
      ref: 'r-fly',
    });
    expect(await sandwich({ reqId: 'r-untyped' })).toMatchObject({ code: 'bad_request', ref: 'r-untyped' });
  });

  it('answers an unknown field with bad_request and the ref', async () => {
    expect(await sandwich(send({ clientMsgId: 'c-extra', extra: 1 }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-extra',
    });
    expect(
      await sandwich({ type: 'history', reqId: 'r-extra', conversationId, afterSeq: 0, colour: 'red' }),
    ).toMatchObject({ code: 'bad_request', ref: 'r-extra' });
    expect(await sandwich({ type: 'ping', extra: true })).toMatchObject({ code: 'bad_request' });
  });

  it('answers bad identifiers with bad_request', async () => {
    expect(await sandwich(send({ clientMsgId: 'has space' }))).toMatchObject({ code: 'bad_request' });
    expect(await sandwich(send({ clientMsgId: 'x'.repeat(65) }))).toMatchObject({ code: 'bad_request' });
    expect(await sandwich(send({ clientMsgId: '' }))).toMatchObject({ code: 'bad_request' });
    expect(await sandwich(send({ clientMsgId: 'c-conv', conversationId: 'a/b' }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-conv',
    });
    expect(
      await sandwich(send({ clientMsgId: 'c-conv-long', conversationId: 'c'.repeat(65) })),
    ).toMatchObject({
      code: 'bad_request',
      ref: 'c-conv-long',
    });
    expect(await sandwich({ type: 'conversations', reqId: 'bad reqId!' })).toMatchObject({
      code: 'bad_request',
    });
    expect(await sandwich({ type: 'sync', reqId: 'r-cursor-id', cursors: { 'a b': 0 } })).toMatchObject({
      code: 'bad_request',
      ref: 'r-cursor-id',
    });
  });

  it('answers a send with an invalid content type or body with bad_request and the ref', async () => {
    expect(await sandwich(send({ clientMsgId: 'c-empty', body: { text: '' } }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-empty',
    });
    expect(await sandwich(send({ clientMsgId: 'c-notext', body: { caption: 'x' } }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-notext',
    });
    expect(await sandwich(send({ clientMsgId: 'c-numtext', body: { text: 42 } }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-numtext',
    });
    expect(await sandwich(send({ clientMsgId: 'c-strbody', body: 'hello' }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-strbody',
    });
    expect(await sandwich(send({ clientMsgId: 'c-nobody', body: undefined }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-nobody',
    });
    expect(await sandwich(send({ clientMsgId: 'c-video', contentType: 'video' }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-video',
    });
    // A client cannot pose as the system or send a recall through `send`.
    expect(await sandwich(send({ clientMsgId: 'c-system', contentType: 'system' }))).toMatchObject({
      code: 'bad_request',
      ref: 'c-system',
    });
    expect(
      await sandwich(send({ clientMsgId: 'c-recall', contentType: 'recall', body: { targetSeq: 1 } })),
    ).toMatchObject({ code: 'bad_request', ref: 'c-recall' });
  });

  it('answers out-of-range numbers with bad_request', async () => {
    expect(await sandwich({ type: 'deliver_ack', conversationId, seq: -1 })).toMatchObject({
      code: 'bad_request',
    });
    expect(await sandwich({ type: 'read', conversationId, seq: 1.5 })).toMatchObject({ code: 'bad_request' });
    expect(await sandwich({ type: 'read', conversationId, seq: '3' })).toMatchObject({ code: 'bad_request' });
    expect(await sandwich({ type: 'sync', reqId: 'r-lim0', limit: 0 })).toMatchObject({
      code: 'bad_request',
      ref: 'r-lim0',
    });
    expect(await sandwich({ type: 'sync', reqId: 'r-lim201', limit: 201 })).toMatchObject({
      code: 'bad_request',
      ref: 'r-lim201',
    });
    expect(
      await sandwich({ type: 'sync', reqId: 'r-negcur', cursors: { [conversationId]: -1 } }),
    ).toMatchObject({
      code: 'bad_request',
      ref: 'r-negcur',
    });
    expect(
      await sandwich({ type: 'recall', clientMsgId: 'c-target0', conversationId, targetSeq: 0 }),
    ).toMatchObject({ code: 'bad_request', ref: 'c-target0' });
  });

  it('answers history with both afterSeq and beforeSeq with bad_request and the ref', async () => {
    expect(
      await sandwich({ type: 'history', reqId: 'r-both', conversationId, afterSeq: 1, beforeSeq: 5 }),
    ).toMatchObject({ code: 'bad_request', ref: 'r-both' });
  });

  it('answers a body over 32 KiB in a frame under 64 KiB with too_large and the ref', async () => {
    const frame = send({
      clientMsgId: 'c-large',
      contentType: 'custom',
      body: { blob: 'x'.repeat(40 * 1024) },
    });
    expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThan(64 * 1024);
    expect(await sandwich(frame)).toMatchObject({ code: 'too_large', ref: 'c-large' });
  });

  it('accepts a body of exactly 32 KiB serialized', async () => {
    const body = { text: 'y'.repeat(32 * 1024 - '{"text":""}'.length) };
    expect(Buffer.byteLength(JSON.stringify(body))).toBe(32 * 1024);
    const from = a.frames.length;
    a.sendRaw({ type: 'send', clientMsgId: 'c-32k', conversationId, contentType: 'text', body });
    const answer = await a.next((f) => isAnswerTo(f, 'c-32k'), 15_000, from);
    expect(answer).toMatchObject({ type: 'ack', clientMsgId: 'c-32k' });
  });

  it('answers a binary frame with bad_request', async () => {
    const error = await sandwich({ type: 'ping' }, true);
    expect(error).toMatchObject({ code: 'bad_request' });
  });

  it('stores a body as sent, keys named like Object.prototype members too, and refuses __proto__ in it', async () => {
    const clientMsgId = `protokeys-${randomUUID().slice(0, 8)}`;
    const body = { toString: 'x', valueOf: [1], nested: { constructor: { name: 'y' } } };
    a.sendRaw({ type: 'send', clientMsgId, conversationId, contentType: 'custom', body });
    const ack = await a.ackOf(clientMsgId);
    expect(ack).toMatchObject({ type: 'ack', clientMsgId });
    const page = await a.request({
      type: 'history',
      reqId: `h-${clientMsgId}`,
      conversationId,
      afterSeq: Number(ack.seq) - 1,
      limit: 1,
    });
    expect((page.messages as Frame[])[0]).toMatchObject({ seq: ack.seq, body });

    const refused = `proto-${randomUUID().slice(0, 8)}`;
    a.ws.send(
      `{"type":"send","clientMsgId":"${refused}","conversationId":"${conversationId}","contentType":"custom","body":{"a":{"__proto__":{"admin":true}}}}`,
    );
    expect(await a.ackOf(refused)).toMatchObject({ type: 'error', ref: refused, code: 'bad_request' });
  });

  it('keeps the connection open after all of that', async () => {
    const from = a.frames.length;
    a.sendRaw({ type: 'ping' });
    expect(await a.next((f) => f.type === 'pong', 5_000, from)).toMatchObject({ type: 'pong' });
    expect(a.closeCode).toBeUndefined();
  });
});
