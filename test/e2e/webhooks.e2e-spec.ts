import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { TestContext } from '../support/context';
import { history, isAnswerTo, sendAndAck, sleep, waitFor } from '../support/helpers';
import { OwnStack, startOwnStack } from '../support/own-stack';
import type { Frame, TestClient } from '../support/test-client';
import { WebhookReceiver, WebhookRequest } from '../support/webhook-receiver';

/**
 * docs/protocol.md §5.8 against a real HTTP receiver: message.before_send (allow, reject,
 * replace, timeouts failing open and closed, resends answered without a new call) and
 * message.offline (exactly the messages offline members missed, at least once, across a
 * receiver answering 500 for a minute and a kill -9 of delivery; nothing for online members).
 */
const secret = `whsec-${randomBytes(16).toString('hex')}`;

/** What a receiver does with X-IM-Signature, with node:crypto alone. */
const signatureHolds = (r: WebhookRequest) =>
  r.signature === `sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`;

/** Answers before_send by the text's first word, as a moderation service might. */
function moderate(r: Pick<WebhookRequest, 'event' | 'body'>, slowMs: number) {
  const text = String(r.body.body?.text ?? '');
  if (text.startsWith('reject'))
    return { status: 200, body: { action: 'reject', reason: 'no links, please' } };
  if (text.startsWith('replace'))
    return { status: 200, body: { action: 'replace', body: { text: '[removed]' } } };
  if (text.startsWith('badreplace')) return { status: 200, body: { action: 'replace', body: { text: '' } } };
  if (text.startsWith('slow')) return { status: 200, body: { action: 'allow' }, delayMs: slowMs };
  if (text.startsWith('fail')) return { status: 500, body: { error: 'down' } };
  return { status: 200, body: { action: 'allow' } };
}

/** Starts the receiver and a stack of its own that calls it (before_send on); stops both after the block. */
function webhookStack(
  name: string,
  receiver: WebhookReceiver,
  env: Record<string, string>,
  started: (own: OwnStack) => void,
) {
  let own: OwnStack | undefined;
  beforeAll(async () => {
    const url = await receiver.start();
    own = await startOwnStack({
      name,
      env: { WEBHOOK_URL: url, WEBHOOK_SECRET: secret, WEBHOOK_BEFORE_SEND: 'true', ...env },
    });
    started(own);
  }, 120_000);
  afterAll(async () => {
    await own?.stop();
    await receiver.stop();
  });
}

async function answerTo(
  client: TestClient,
  conversationId: string,
  text: string,
  clientMsgId = randomUUID(),
) {
  const from = client.frames.length;
  client.send(conversationId, text, clientMsgId);
  return client.next((f) => isAnswerTo(f, clientMsgId), 15_000, from);
}

describe('webhooks, before_send failing open', () => {
  const receiver = new WebhookReceiver();
  let offlineStatus = 200;
  let own: OwnStack | undefined;
  let ctx: TestContext;

  receiver.answer = (r) => (r.event === 'message.offline' ? { status: offlineStatus } : moderate(r, 1500));
  webhookStack(
    'whk',
    receiver,
    { WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_RETRY_MAX_MS: '4000', KAFKA_PARTITIONS: '2' },
    (started) => {
      own = started;
      ctx = started.ctx;
    },
  );
  afterEach(() => expect(receiver.requests.filter((r) => !signatureHolds(r))).toEqual([]));

  const calls = (clientMsgId: string) =>
    receiver.of('message.before_send').filter((r) => r.body.clientMsgId === clientMsgId);

  it('asks before a send with the send as it came, and a resend of the allowed one is not asked again', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob], 'group');
    const a = await ctx.connect(alice);
    const clientMsgId = randomUUID();
    a.sendRaw({
      type: 'send',
      clientMsgId,
      conversationId,
      contentType: 'text',
      body: { text: 'hello @bob' },
      mentions: [bob.id],
    });
    const ack = await a.ackOf(clientMsgId);
    expect(ack.type).toBe('ack');
    expect(calls(clientMsgId).map((r) => r.body)).toEqual([
      {
        conversationId,
        senderId: alice.id,
        clientMsgId,
        contentType: 'text',
        body: { text: 'hello @bob' },
        mentions: [bob.id],
      },
    ]);
    expect(calls(clientMsgId)[0].delivery).toMatch(/\S/);

    const from = a.frames.length;
    a.sendRaw({
      type: 'send',
      clientMsgId,
      conversationId,
      contentType: 'text',
      body: { text: 'hello @bob' },
      mentions: [bob.id],
    });
    const again = await a.next((f) => isAnswerTo(f, clientMsgId), 15_000, from);
    expect([again.type, again.seq, again.messageId]).toEqual(['ack', ack.seq, ack.messageId]);
    expect(calls(clientMsgId)).toHaveLength(1);
  });

  it('refuses a rejected send with `rejected` and the reason, and its resend the same way without a call', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const clientMsgId = randomUUID();
    const first = await answerTo(a, conversationId, 'reject me https://spam', clientMsgId);
    expect([first.type, first.code, first.message]).toEqual(['error', 'rejected', 'no links, please']);
    const again = await answerTo(a, conversationId, 'reject me https://spam', clientMsgId);
    expect([again.type, again.code, again.message]).toEqual(['error', 'rejected', 'no links, please']);
    expect(calls(clientMsgId)).toHaveLength(1);
    // Nothing was stored, and the conversation goes on.
    await sendAndAck(a, conversationId, 'a fine message');
    const stored = (await history(a, conversationId, { afterSeq: 0, limit: 50 })).messages as {
      body: { text: string };
    }[];
    expect(stored.map((m) => m.body.text)).toEqual(['a fine message']);
  });

  it('stores and delivers the body the receiver gives in place of the sent one', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const [a, b] = [await ctx.connect(alice), await ctx.connect(bob)];
    const ack = await answerTo(a, conversationId, 'replace this rude word');
    expect(ack.type).toBe('ack');
    const pushed = await b.next((f) => f.type === 'message' && f.seq === ack.seq);
    expect(pushed.body).toEqual({ text: '[removed]' });
    const stored = (await history(a, conversationId, { afterSeq: 0, limit: 10 })).messages as {
      body: unknown;
    }[];
    expect(stored.map((m) => m.body)).toEqual([{ text: '[removed]' }]);
  });

  it('takes a replacement no client could send, or no answer in time, as a failure and lets the send through', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const bad = await answerTo(a, conversationId, 'badreplace me');
    const slowId = randomUUID();
    const slow = await answerTo(a, conversationId, 'slow receiver', slowId);
    const failed = await answerTo(a, conversationId, 'fail with 500');
    expect([bad.type, slow.type, failed.type]).toEqual(['ack', 'ack', 'ack']);
    const stored = (await history(a, conversationId, { afterSeq: 0, limit: 10 })).messages as {
      body: { text: string };
    }[];
    expect(stored.map((m) => m.body.text)).toEqual(['badreplace me', 'slow receiver', 'fail with 500']);
    // The resend of a message let through is not asked about again either.
    await answerTo(a, conversationId, 'slow receiver', slowId);
    expect(calls(slowId)).toHaveLength(1);
  });

  it('tells of each message its offline members missed, at least once, across a receiver down for a minute and a kill -9 of delivery; online members never', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const group = await ctx.newConversation([alice, bob, carol], 'group');
    const allOnline = await ctx.newConversation([alice, carol]);
    const a = await ctx.connect(alice);
    await ctx.connect(carol);
    const notices = () => receiver.of('message.offline').filter((r) => r.body.conversationId === group);
    const answered = (messageId: string) =>
      notices().some((r) => r.body.messageId === messageId && r.status === 200);

    const acks: Frame[] = [];
    const texts = new Map<string, string>();
    const send = async (text: string) => {
      const ack = await sendAndAck(a, group, text);
      texts.set(ack.messageId as string, text);
      acks.push(ack);
    };
    // The last one is longer than a preview.
    for (let i = 0; i < 3; i++) await send(`before the outage ${i}${i === 2 ? ` ${'x'.repeat(130)}` : ''}`);
    await sendAndAck(a, allOnline, 'everyone is here');
    await waitFor(() => acks.every((ack) => answered(ack.messageId as string)), 'the first notices', 30_000);

    offlineStatus = 500;
    const downSince = Date.now();
    for (let i = 0; i < 4; i++) await send(`during the outage ${i}`);
    const late = acks.slice(3).map((ack) => ack.messageId as string);
    // The queue is ordered per conversation: the first refused notice holds those behind it.
    await waitFor(() => notices().some((r) => r.status === 500), 'a refused attempt', 30_000);
    const stack = own!.stack;
    await stack.stopInstance(stack.get('delivery', 0), 'SIGKILL');
    await stack.restart(stack.get('delivery', 0));
    await sleep(Math.max(0, 60_000 - (Date.now() - downSince)));
    offlineStatus = 200;
    await waitFor(() => late.every((id) => answered(id)), 'every notice once the receiver is back', 90_000);

    // Exactly the group's messages, each for bob only, with the same delivery id on every attempt.
    const byMessage = new Map<string, WebhookRequest[]>();
    for (const r of notices())
      byMessage.set(r.body.messageId, [...(byMessage.get(r.body.messageId) ?? []), r]);
    expect([...byMessage.keys()].sort()).toEqual(acks.map((ack) => ack.messageId as string).sort());
    for (const ack of acks) {
      const attempts = byMessage.get(ack.messageId as string)!;
      expect(new Set(attempts.map((r) => r.delivery)).size).toBe(1);
      expect(attempts[0].body).toEqual({
        messageId: ack.messageId,
        conversationId: group,
        seq: ack.seq,
        senderId: alice.id,
        contentType: 'text',
        preview: texts.get(ack.messageId as string)!.slice(0, 100),
        recipients: [bob.id],
      });
    }
    // The one refused first was tried again (same delivery id, checked above) until it got through.
    const refused = notices().find((r) => r.status === 500)!;
    expect(byMessage.get(refused.body.messageId)!.map((r) => r.status)).toContain(200);
    expect(receiver.of('message.offline').filter((r) => r.body.conversationId === allOnline)).toEqual([]);
  }, 240_000);
});

describe('webhooks, before_send failing closed', () => {
  const receiver = new WebhookReceiver();
  let down = true;
  let ctx: TestContext;

  receiver.answer = (r) =>
    r.event === 'message.before_send' && down
      ? moderate(r, 1500)
      : { status: 200, body: { action: 'allow' } };
  webhookStack('whc', receiver, { WEBHOOK_TIMEOUT_MS: '400', WEBHOOK_FAIL_OPEN: 'false' }, (started) => {
    ctx = started.ctx;
  });

  it('refuses a send `unavailable` when the receiver is slow or failing, and takes its resend once it answers', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const slowId = randomUUID();
    const failId = randomUUID();
    const slow = await answerTo(a, conversationId, 'slow receiver', slowId);
    const failed = await answerTo(a, conversationId, 'fail with 500', failId);
    expect([slow.type, slow.code, failed.type, failed.code]).toEqual([
      'error',
      'unavailable',
      'error',
      'unavailable',
    ]);

    down = false;
    const slowAck = await answerTo(a, conversationId, 'slow receiver', slowId);
    const failAck = await answerTo(a, conversationId, 'fail with 500', failId);
    expect([slowAck.type, failAck.type]).toEqual(['ack', 'ack']);
    expect(failAck.seq).toBeGreaterThan(slowAck.seq);
    expect(receiver.requests.filter((r) => !signatureHolds(r))).toEqual([]);
  });

  it('refuses, with a send moderation failed closed, the send behind it that moderation let through (G3), and keeps their order on resend', async () => {
    down = true;
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const [slowId, quickId] = [randomUUID(), randomUUID()];
    const from = a.frames.length;
    a.send(conversationId, 'slow receiver', slowId);
    a.send(conversationId, 'a quick one', quickId);
    const slow = await a.next((f) => isAnswerTo(f, slowId), 15_000, from);
    const quick = await a.next((f) => isAnswerTo(f, quickId), 15_000, from);
    expect([slow.type, slow.code, quick.type, quick.code]).toEqual([
      'error',
      'unavailable',
      'error',
      'unavailable',
    ]);
    // The quick one was allowed by the receiver while the slow one was still waiting.
    expect(receiver.of('message.before_send').some((r) => r.body.clientMsgId === quickId)).toBe(true);

    down = false;
    const slowAck = await answerTo(a, conversationId, 'slow receiver', slowId);
    const quickAck = await answerTo(a, conversationId, 'a quick one', quickId);
    expect([slowAck.type, quickAck.type]).toEqual(['ack', 'ack']);
    expect(quickAck.seq).toBeGreaterThan(slowAck.seq);
  });
});
