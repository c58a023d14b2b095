import { randomUUID } from 'node:crypto';
import { setup, TestContext } from '../../support/context';
import { Frame, TestClient } from '../../support/test-client';
import {
  autoDeliverAck,
  countBy,
  isAnswerTo,
  isStrictlyIncreasing,
  sendAndAck,
  sleep,
  waitFor,
  within,
} from '../../support/helpers';
import { OwnStack, startOwnStack } from '../../support/own-stack';

const FLOOD = 1000;
/** Errors a flooded send may get instead of an ack (docs/protocol.md §4). */
const FLOOD_ERRORS = ['rate_limited', 'unavailable'];

/** Every stored message of a conversation, through the admin API. */
async function stored(ctx: TestContext, conversationId: string): Promise<Frame[]> {
  const all: Frame[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await ctx.admin(
      'GET',
      `/admin/conversations/${conversationId}/messages?afterSeq=${afterSeq}&limit=200`,
    );
    if (page.status !== 200) throw new Error(`messages answered ${page.status}`);
    all.push(...(page.body.messages as Frame[]));
    if (!page.body.hasMore || page.body.messages.length === 0) return all;
    afterSeq = all[all.length - 1].seq as number;
  }
}

/**
 * 1,000 sends as fast as the socket takes them, while another user chats in another
 * conversation. Passes with or without a rate limit: every send is answered at most once (exactly
 * once unless the flooder is closed with 4429), by `ack` or by `rate_limited`/`unavailable`;
 * nothing is stored twice, nothing refused is stored, and the other user loses nothing.
 */
async function flood(
  ctx: TestContext,
  gateways: number,
): Promise<{ acked: number; refused: number; closed?: number }> {
  const [a, b, c, d] = [
    await ctx.newUser('flooder'),
    await ctx.newUser('flooded'),
    await ctx.newUser('calm'),
    await ctx.newUser('calm-peer'),
  ];
  const floodConversation = await ctx.newConversation([a, b]);
  const calmConversation = await ctx.newConversation([c, d]);
  const flooder = await ctx.connect(a, { gateway: 0 });
  const peer = await ctx.connect(b, { gateway: gateways - 1 });
  autoDeliverAck(peer);
  const calm = await ctx.connect(c, { gateway: gateways - 1 });
  const calmPeer = await ctx.connect(d, { gateway: 0 });
  autoDeliverAck(calmPeer);

  const run = randomUUID().slice(0, 6);
  const ids = Array.from({ length: FLOOD }, (_, i) => `flood-${run}-${i}`);
  const index = new Map(ids.map((id, i) => [id, i]));
  const answersOf = (id: string) => flooder.frames.filter((f) => isAnswerTo(f, id));
  const settled = () =>
    flooder.closeCode !== undefined ||
    flooder.frames.filter(
      (f) => (f.type === 'ack' || f.type === 'error') && (index.has(f.clientMsgId) || index.has(f.ref)),
    ).length >= FLOOD;

  for (let i = 0; i < FLOOD; i++) flooder.send(floodConversation, `flood ${i}`, ids[i]);

  // The calm user keeps chatting until the flood is answered (at least 10 messages).
  const calmAcks: Frame[] = [];
  for (let i = 0; calmAcks.length < 10 || !settled(); i++) {
    calmAcks.push(await sendAndAck(calm, calmConversation, `calm ${i}`));
    await sleep(50); // a calm pace: at most 20 messages a second
    if (i > 2000) throw new Error('the flood never settled');
  }
  await waitFor(settled, 'every flooded send to be answered or the flooder closed', 60_000);
  // Late duplicates would show up now.
  await sleep(500);

  // Every send answered at most once, and exactly once unless the connection was closed for abuse.
  const closed = flooder.closeCode;
  if (closed !== undefined) expect(closed).toBe(4429);
  const problems: string[] = [];
  const acks = new Map<string, Frame>();
  const refused = new Set<string>();
  for (const id of ids) {
    const answers = answersOf(id);
    if (answers.length > 1) problems.push(`${id} answered ${answers.length} times`);
    if (answers.length === 0 && closed === undefined) problems.push(`${id} never answered`);
    for (const answer of answers) {
      if (answer.type === 'ack') acks.set(id, answer);
      else if (FLOOD_ERRORS.includes(answer.code as string)) {
        if (answer.code === 'rate_limited') refused.add(id);
      } else problems.push(`${id} answered ${JSON.stringify(answer)}`);
    }
  }
  expect(problems).toEqual([]);
  // Without a close every send was answered: the ones within the limits were acked.
  if (closed === undefined) expect(acks.size).toBeGreaterThan(0);
  // Acks of one connection come in the order of its sends (G3).
  const ackedSeqs = ids.filter((id) => acks.has(id)).map((id) => acks.get(id)!.seq as number);
  expect(isStrictlyIncreasing(ackedSeqs)).toBe(true);

  // What is stored: nothing twice, every ack as acked, nothing refused, in the order sent.
  const messages = await stored(ctx, floodConversation);
  // The sends within the limits got through, even if their acks were lost in a 4429 close.
  expect(messages.length).toBeGreaterThanOrEqual(acks.size);
  expect(messages.length).toBeGreaterThan(0);
  const duplicates = [...countBy(messages.map((m) => m.clientMsgId as string))].filter(([, n]) => n > 1);
  expect(duplicates).toEqual([]);
  expect(messages.every((m) => index.has(m.clientMsgId as string) && m.senderId === a.id)).toBe(true);
  const byId = new Map(messages.map((m) => [m.clientMsgId as string, m]));
  for (const [id, ack] of acks)
    expect({ id, stored: byId.get(id)?.messageId, seq: byId.get(id)?.seq }).toEqual({
      id,
      stored: ack.messageId,
      seq: ack.seq,
    });
  expect([...refused].filter((id) => byId.has(id))).toEqual([]);
  expect(isStrictlyIncreasing(messages.map((m) => index.get(m.clientMsgId as string)!))).toBe(true);
  // The recipient gets every acked message (re-pushes may repeat some: count distinct ones).
  const pushedIds = () => new Set(peer.messages(floodConversation).map((m) => m.clientMsgId as string));
  await waitFor(
    () => [...acks.keys()].every((id) => pushedIds().has(id)),
    'every acked message pushed',
    30_000,
    100,
  ).catch(() => undefined);
  const pushed = pushedIds();
  expect([...acks.keys()].filter((id) => !pushed.has(id))).toEqual([]);

  // The calm user lost nothing: all acked in order, all received in order.
  expect(isStrictlyIncreasing(calmAcks.map((x) => x.seq as number))).toBe(true);
  const calmSeqs = () => new Set(calmPeer.messages(calmConversation).map((m) => m.seq as number));
  await waitFor(() => calmSeqs().size >= calmAcks.length, 'the calm messages to arrive', 20_000, 100).catch(
    () => undefined,
  );
  const received = [
    ...new Map(calmPeer.messages(calmConversation).map((m) => [m.seq as number, m])).values(),
  ].sort((x, y) => (x.seq as number) - (y.seq as number));
  expect(received.map((m) => m.messageId)).toEqual(calmAcks.map((x) => x.messageId));

  // The flooder's user can still chat once it behaves (after a 4429, on a new connection).
  const again = closed === undefined ? flooder : await ctx.connect(a, { gateway: 0 });
  await waitFor(
    async () => {
      const id = `after-${randomUUID().slice(0, 8)}`;
      const from = again.frames.length;
      again.send(floodConversation, 'behaving now', id);
      const answer = await again.next((f) => isAnswerTo(f, id), 15_000, from);
      return answer.type === 'ack' || (answer.code !== 'rate_limited' && answer);
    },
    'a well-behaved send of the flooder to be acked',
    20_000,
    500,
  ).then((answer) => expect(answer).toBe(true));
  return { acked: acks.size, refused: refused.size, closed };
}

describe('security: floods, oversized and malformed frames (shared stack)', () => {
  const ctx = setup();

  it(`answers each of ${FLOOD} sends sent at once exactly once, stores none twice, and keeps serving others`, async () => {
    const result = await flood(ctx, 2);
    process.stdout.write(`[security] flood on the shared stack: ${JSON.stringify(result)}\n`);
  }, 120_000);

  /** A frame of exactly `bytes` bytes: a ping with a padding field (so: bad_request when it fits). */
  const paddedPing = (bytes: number) => {
    const empty = JSON.stringify({ type: 'ping', padding: '' });
    const frame = JSON.stringify({ type: 'ping', padding: 'p'.repeat(bytes - empty.length) });
    expect(Buffer.byteLength(frame)).toBe(bytes);
    return frame;
  };

  async function sandwich(client: TestClient, conversationId: string, bad: () => void): Promise<Frame[]> {
    const from = client.frames.length;
    const [before, after] = [`before-${randomUUID().slice(0, 8)}`, `after-${randomUUID().slice(0, 8)}`];
    client.send(conversationId, 'before', before);
    bad();
    client.send(conversationId, 'after', after);
    const answers = await Promise.all(
      [before, after].map((id) => client.next((f) => isAnswerTo(f, id), 15_000, from)),
    );
    expect(answers.map((x) => x.type)).toEqual(['ack', 'ack']);
    expect(answers[1].seq).toBeGreaterThan(answers[0].seq);
    return client.frames.slice(from).filter((f) => f.type === 'error' && f.ref !== before && f.ref !== after);
  }

  it('takes a frame of exactly 64 KiB (bad_request: unknown field) and closes with 1009 at 64 KiB + 1 byte', async () => {
    const [u, v] = [await ctx.newUser('big'), await ctx.newUser('big-peer')];
    const conversationId = await ctx.newConversation([u, v]);
    const client = await ctx.connect(u);
    const errors = await sandwich(client, conversationId, () => client.sendRaw(paddedPing(64 * 1024)));
    expect(errors).toEqual([{ type: 'error', code: 'bad_request', message: expect.any(String) }]);
    expect(client.closeCode).toBeUndefined();

    client.sendRaw(paddedPing(64 * 1024 + 1));
    expect(await within(client.waitClosed(), 10_000, 'the close')).toBe(1009);
    // The user reconnects and carries on; the gateway is fine.
    const again = await ctx.connect(u);
    expect(await sendAndAck(again, conversationId, 'back')).toMatchObject({ type: 'ack' });
  });

  it('closes with 1009 when an oversized message arrives in small fragments, or as a binary frame', async () => {
    const u = await ctx.newUser('frag');
    const fragmented = await ctx.connect(u, { gateway: 1 });
    const chunk = 'x'.repeat(1024);
    fragmented.ws.send(`{"type":"ping","padding":"`, { fin: false });
    for (let i = 0; i < 70; i++) fragmented.ws.send(chunk, { fin: false });
    fragmented.ws.send('"}', { fin: true });
    expect(await within(fragmented.waitClosed(), 10_000, 'the close of the fragmented frame')).toBe(1009);

    const binary = await ctx.connect(u, { gateway: 1 });
    binary.ws.send(Buffer.alloc(64 * 1024 + 1, 0x7b), { binary: true });
    expect(await within(binary.waitClosed(), 10_000, 'the close of the binary frame')).toBe(1009);
  });

  it('answers malformed frames with bad_request and keeps the connection and the sends around them', async () => {
    const [u, v] = [await ctx.newUser('malformed'), await ctx.newUser('malformed-peer')];
    const conversationId = await ctx.newConversation([u, v]);
    const client = await ctx.connect(u, { gateway: 1 });
    const texts = [
      '',
      ' ',
      '\n',
      'null',
      'true',
      '42',
      '"ping"',
      '[]',
      '[{"type":"ping"}]',
      '{',
      '{"type":"ping"',
      '{"type":"ping"}}',
      '{"type":"ping"} {"type":"ping"}',
      "{'type':'ping'}",
      '{"type":"ping",}',
      '{"type":NaN}',
      '{"type":"ping","x":Infinity}',
      '{"type":"ping"}\u0000',
      '{"type":"PING"}',
      '{"type":" ping"}',
      '{"type":["ping"]}',
      '{"type":{"type":"ping"}}',
      '{"type":null}',
      '{"TYPE":"ping"}',
      '{}',
      '{"type":"send"}',
      `{"type":"send","clientMsgId":"m1","conversationId":"${conversationId}","contentType":"text","body":{"text":"x"},"body2":1}`,
      '{"type":"send","clientMsgId":"m2","conversationId":"c","contentType":"text","body":[]}',
      '{"type":"history","reqId":"h","conversationId":"c"}',
      // null is no number: with or without it, history lacks exactly one of afterSeq/beforeSeq.
      `{"type":"history","reqId":"hn1","conversationId":"${conversationId}","afterSeq":null}`,
      `{"type":"history","reqId":"hn2","conversationId":"${conversationId}","beforeSeq":null}`,
      `{"type":"read","conversationId":"${conversationId}","seq":null}`,
      '{"type":"read","conversationId":"c","seq":1e400}',
      '{"type":"read","conversationId":"c","seq":-0.5}',
      '\u00ff\u00fe',
      '😀',
    ];
    const seen: [string, string | undefined][] = [];
    for (const text of texts) {
      const errors = await sandwich(client, conversationId, () => client.ws.send(text));
      seen.push([text, errors.length === 1 ? (errors[0].code as string) : `${errors.length} errors`]);
    }
    expect(seen.filter(([, code]) => code !== 'bad_request')).toEqual([]);
    const binary = await sandwich(client, conversationId, () =>
      client.ws.send(Buffer.from('{"type":"ping"}'), { binary: true }),
    );
    expect(binary.map((e) => e.code)).toEqual(['bad_request']);
    expect(client.closeCode).toBeUndefined();
  });

  it('takes null in an optional field as absent or refuses it, never as an internal error', async () => {
    const [u, v] = [await ctx.newUser('nulls'), await ctx.newUser('nulls-peer')];
    const conversationId = await ctx.newConversation([u, v]);
    const client = await ctx.connect(u);
    const cases: [Frame, string[]][] = [
      [{ type: 'sync', reqId: 'n-cursors', cursors: null }, ['sync_result', 'bad_request']],
      [{ type: 'sync', reqId: 'n-limit', limit: null }, ['sync_result', 'bad_request']],
      [
        { type: 'history', reqId: 'n-hlimit', conversationId, afterSeq: 0, limit: null },
        ['history_result', 'bad_request'],
      ],
    ];
    const wrong: string[] = [];
    for (const [frame, allowed] of cases) {
      const answer = await client.request(frame, 10_000);
      const outcome = answer.type === 'error' ? (answer.code as string) : answer.type;
      if (!allowed.includes(outcome)) wrong.push(`${JSON.stringify(frame)} → ${JSON.stringify(answer)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('rejects prototype-named unknown fields (__proto__, constructor, prototype) like any unknown field', async () => {
    const [u, v] = [await ctx.newUser('proto'), await ctx.newUser('proto-peer')];
    const conversationId = await ctx.newConversation([u, v]);
    const client = await ctx.connect(u);
    const results: [string, string][] = [];
    for (const field of ['__proto__', 'constructor', 'prototype']) {
      for (const value of ['{}', '{"x":1}', '1', 'null']) {
        const text = `{"type":"ping","${field}":${value}}`;
        const from = client.frames.length;
        client.ws.send(text);
        const answer = await client.next((f) => f.type === 'error' || f.type === 'pong', 10_000, from);
        results.push([text, answer.type === 'error' ? (answer.code as string) : answer.type]);
      }
    }
    // And in a send, where the body must not be silently altered either.
    const id = `proto-${randomUUID().slice(0, 8)}`;
    client.ws.send(
      `{"type":"send","clientMsgId":"${id}","conversationId":"${conversationId}","contentType":"text","body":{"text":"x"},"__proto__":{}}`,
    );
    const answer = await client.ackOf(id);
    results.push(['send with __proto__', answer.type === 'error' ? (answer.code as string) : answer.type]);
    expect(results.filter(([, outcome]) => outcome !== 'bad_request')).toEqual([]);
  });

  it('survives a text frame that is not UTF-8: bad_request, or the RFC 6455 close 1007, never a crash', async () => {
    const u = await ctx.newUser('utf8');
    const client = await ctx.connect(u);
    const from = client.frames.length;
    client.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    const outcome = await waitFor(
      () => {
        const error = client.frames.slice(from).find((f) => f.type === 'error');
        if (error) return error.code as string;
        return client.closeCode !== undefined && `close ${client.closeCode}`;
      },
      'an error or a close',
      10_000,
    );
    expect(['bad_request', 'close 1007']).toContain(outcome);
    const again = await ctx.connect(u);
    expect(again.frames[0]).toMatchObject({ type: 'welcome' });
    expect(
      (
        await Promise.all(ctx.stack.services.map((s) => fetch(`http://127.0.0.1:${s.port}/health/ready`)))
      ).map((r) => r.status),
    ).toEqual(ctx.stack.services.map(() => 200));
  });
});

describe('security: a flood against production rate limits (own stack)', () => {
  let own: OwnStack;

  beforeAll(async () => {
    // No RATE_LIMIT_* overrides: the defaults a production gateway runs with.
    own = await startOwnStack({ name: 'sec-flood', instances: { gateway: 1 } });
  }, 120_000);

  afterAll(async () => {
    await own?.stop();
  }, 60_000);

  it(`answers each of ${FLOOD} sends at most once (rate_limited or ack; 4429 at most), stores none twice, and keeps serving others`, async () => {
    const result = await flood(own.ctx, 1);
    process.stdout.write(`[security] flood against default limits: ${JSON.stringify(result)}\n`);
    expect((await own.readiness()).filter((r) => r.status !== 200)).toEqual([]);
  }, 120_000);
});
