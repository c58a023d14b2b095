import { randomUUID } from 'node:crypto';
import { setup, TestContext } from '../../support/context';
import { Frame, TestClient } from '../../support/test-client';
import { autoDeliverAck, framesDuring, fullHistory, isAnswerTo, sleep } from '../../support/helpers';
import { OwnStack, startOwnStack } from '../../support/own-stack';

/**
 * Single frames from an ordinary authenticated user that must neither take a service down nor
 * wedge a Kafka partition (a batch that can never be written is retried forever and blocks
 * every later event of its partition, i.e. the messages or receipts of other users).
 *
 * The frames that do harm today run on stacks of their own, with one partition per topic so a
 * wedged partition is certain to be the one the check uses, and so the shared stack survives.
 */

interface Pair {
  a: TestClient;
  b: TestClient;
  conversationId: string;
}

async function pair(ctx: TestContext, name: string): Promise<Pair> {
  const [u, v] = [await ctx.newUser(`${name}-a`), await ctx.newUser(`${name}-b`)];
  const conversationId = await ctx.newConversation([u, v]);
  const a = await ctx.connect(u);
  const b = await ctx.connect(v);
  autoDeliverAck(a);
  autoDeliverAck(b);
  return { a, b, conversationId };
}

/** The answer (ack or error) to a send, or `undefined` when none comes within `timeoutMs`. */
async function answerOf(client: TestClient, frame: Frame, timeoutMs = 8_000): Promise<Frame | undefined> {
  const from = client.frames.length;
  client.sendRaw(frame);
  return client
    .next((f) => isAnswerTo(f, frame.clientMsgId as string), timeoutMs, from)
    .catch(() => undefined);
}

const text = (
  conversationId: string,
  clientMsgId: string,
  body: Record<string, unknown>,
  contentType = 'text',
) => ({
  type: 'send',
  clientMsgId,
  conversationId,
  contentType,
  body,
});

/** Whether the message pipeline of this stack still acks an ordinary message of another user. */
async function pipelineAcks(ctx: TestContext, name: string): Promise<boolean> {
  const { a, conversationId } = await pair(ctx, name);
  const id = `probe-${randomUUID().slice(0, 8)}`;
  const answer = await answerOf(a, text(conversationId, id, { text: 'ordinary' }));
  return answer?.type === 'ack';
}

function describeStackState(own: OwnStack): string {
  return `\nservice log errors:\n${own.errorLines(3).join('\n')}`;
}

describe('security: poison frames', () => {
  const shared = setup();
  let gatewayOnly: OwnStack;
  let wedgeable: OwnStack;
  let wedgeable2: OwnStack;

  beforeAll(async () => {
    const onePartition = { KAFKA_PARTITIONS: '1' };
    [gatewayOnly, wedgeable, wedgeable2] = await Promise.all([
      startOwnStack({ name: 'sec-nest', instances: { gateway: 1, sequencer: 0, storage: 0, delivery: 0 } }),
      startOwnStack({ name: 'sec-wedge', env: onePartition }),
      startOwnStack({ name: 'sec-wedge2', env: onePartition }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([gatewayOnly?.stop(), wedgeable?.stop(), wedgeable2?.stop()]);
  }, 60_000);

  it('answers deeply nested JSON (within 64 KiB) without taking the gateway down', async () => {
    const ctx = gatewayOnly.ctx;
    const user = await ctx.newUser('deep');
    const nested = (depth: number, open: string, close: string, leaf = '') =>
      open.repeat(depth) + leaf + close.repeat(depth);
    const cases: [string, string][] = [
      ['200 objects in an unknown field', `{"type":"ping","x":${nested(200, '{"a":', '}', '1')}}`],
      ['3,000 objects in an unknown field', `{"type":"ping","x":${nested(3000, '{"a":', '}', '1')}}`],
      [
        '12,000 arrays in a custom body',
        `{"type":"send","clientMsgId":"deep-body","conversationId":"c1","contentType":"custom","body":{"a":${nested(12000, '[', ']')}}}`,
      ],
    ];
    const outcomes: string[] = [];
    for (const [name, frame] of cases) {
      expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(64 * 1024);
      const client = await ctx.connect(user, { deviceId: 'deep' }).catch((e: Error) => e);
      if (client instanceof Error) {
        outcomes.push(`${name}: could not connect (${client.message})`);
        continue;
      }
      const from = client.frames.length;
      client.ws.send(frame);
      const answer = await client
        .next((f) => f.type === 'error' || f.type === 'ack', 5_000, from)
        .catch(() => undefined);
      await sleep(200);
      const ready = (await gatewayOnly.readiness())[0].status;
      // Valid per docs/protocol.md (a body is any JSON object), so an ack is fine too; `forbidden`: c1 is no conversation of hers.
      const fine =
        answer !== undefined && ['bad_request', 'too_large', 'forbidden', undefined].includes(answer.code);
      if (!fine || ready !== 200 || client.closeCode !== undefined)
        outcomes.push(
          `${name}: answer ${answer ? JSON.stringify(answer).slice(0, 120) : 'none'}, close ${client.closeCode}, gateway ready ${ready}`,
        );
      if (ready !== 200 && name !== cases[cases.length - 1][0]) {
        // Bring it back to learn about the other cases too.
        const instance = gatewayOnly.stack.get('gateway');
        await gatewayOnly.stack.stopInstance(instance);
        gatewayOnly.stack.spawn(instance);
        await gatewayOnly.stack.waitReady(instance);
      }
    }
    expect({ outcomes, logs: outcomes.length > 0 ? describeStackState(gatewayOnly) : '' }).toEqual({
      outcomes: [],
      logs: '',
    });
  }, 60_000);

  it('does not let a read or deliver_ack with a huge seq wedge the receipts of others', async () => {
    const ctx = wedgeable.ctx;
    // The control: receipts flow.
    const victims = await pair(ctx, 'receipts');
    const first = await answerOf(victims.a, text(victims.conversationId, 'r-1', { text: 'read me' }));
    expect(first?.type).toBe('ack');
    await victims.b.next((f) => f.type === 'message' && f.seq === first!.seq);

    const attacker = await pair(ctx, 'huge-seq');
    const seeded = await answerOf(attacker.a, text(attacker.conversationId, 'h-1', { text: 'x' }));
    expect(seeded?.type).toBe('ack');
    const from = attacker.a.frames.length;
    for (const seq of [1e300, 2 ** 63, 2 ** 64, Number.MAX_SAFE_INTEGER + 2]) {
      attacker.a.sendRaw({ type: 'read', conversationId: attacker.conversationId, seq });
      attacker.a.sendRaw({ type: 'deliver_ack', conversationId: attacker.conversationId, seq });
    }
    // Either refused (bad_request) or taken as "everything"; never an internal error.
    const answers = await framesDuring(attacker.a, (f) => f.type === 'error', 1_000, from);
    expect(answers.filter((f) => f.code !== 'bad_request')).toEqual([]);

    // Receipts of another conversation still flow.
    const receiptFrom = victims.a.frames.length;
    victims.b.sendRaw({ type: 'read', conversationId: victims.conversationId, seq: first!.seq });
    const receipt = await victims.a
      .next((f) => f.type === 'receipt' && f.kind === 'read', 8_000, receiptFrom)
      .catch(() => undefined);
    expect({ receipt: receipt?.seq, logs: receipt ? '' : describeStackState(wedgeable) }).toEqual({
      receipt: first!.seq,
      logs: '',
    });
  }, 60_000);

  it('does not let a NUL character in a body wedge the message pipeline', async () => {
    const ctx = wedgeable.ctx;
    expect(await pipelineAcks(ctx, 'nul-control')).toBe(true);
    const { a, b, conversationId } = await pair(ctx, 'nul');
    const answer = await answerOf(a, text(conversationId, 'nul-1', { text: 'a\u0000b' }));
    // Refused as bad input, or stored and given back exactly.
    expect({
      answer: answer ? `${answer.type} ${answer.code ?? ''}` : 'none',
      logs: answer ? '' : describeStackState(wedgeable),
    }).toEqual({
      answer: expect.stringMatching(/^(ack |error bad_request)$/),
      logs: '',
    });
    if (answer?.type === 'ack') {
      const history = await fullHistory(b, conversationId);
      expect(history.map((m) => m.body)).toEqual([{ text: 'a\u0000b' }]);
    }
    const acks = await pipelineAcks(ctx, 'after-nul');
    expect({ acks, logs: acks ? '' : describeStackState(wedgeable) }).toEqual({ acks: true, logs: '' });
  }, 60_000);

  it('does not let a lone UTF-16 surrogate in a body wedge the message pipeline', async () => {
    const ctx = wedgeable2.ctx;
    expect(await pipelineAcks(ctx, 'sur-control')).toBe(true);
    const { a, b, conversationId } = await pair(ctx, 'sur');
    // JSON.stringify escapes the lone surrogate as \ud800, so the frame itself is valid UTF-8.
    const answer = await answerOf(a, text(conversationId, 'sur-1', { text: 'a\ud800b' }));
    expect({
      answer: answer ? `${answer.type} ${answer.code ?? ''}` : 'none',
      logs: answer ? '' : describeStackState(wedgeable2),
    }).toEqual({
      answer: expect.stringMatching(/^(ack |error bad_request)$/),
      logs: '',
    });
    if (answer?.type === 'ack') expect(await fullHistory(b, conversationId)).toHaveLength(1);
    const acks = await pipelineAcks(ctx, 'after-sur');
    expect({ acks, logs: acks ? '' : describeStackState(wedgeable2) }).toEqual({ acks: true, logs: '' });
  }, 60_000);

  it('answers huge seq numbers in history and recall as a client error, not `internal`', async () => {
    const { a, conversationId } = await pair(shared, 'huge');
    const outcomes: [string, string][] = [];
    for (const seq of [2 ** 63, 1e20, 1e300]) {
      for (const frame of [
        { type: 'history', reqId: `ha-${outcomes.length}`, conversationId, afterSeq: seq },
        { type: 'history', reqId: `hb-${outcomes.length}`, conversationId, beforeSeq: seq },
        { type: 'recall', clientMsgId: `rc-${outcomes.length}`, conversationId, targetSeq: seq },
      ]) {
        const id = frame.reqId ?? frame.clientMsgId;
        const from = a.frames.length;
        a.sendRaw(frame);
        const answer = await a.next(
          (f) => f.reqId === id || f.ref === id || f.clientMsgId === id,
          10_000,
          from,
        );
        outcomes.push([`${frame.type} ${JSON.stringify(frame).slice(-30)}`, answer.code ?? answer.type]);
      }
    }
    // history_result (nothing there), or bad_request / not_found: anything but a server failure.
    expect(outcomes.filter(([, outcome]) => ['internal', 'unavailable'].includes(outcome))).toEqual([]);
  });
});
