import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import WebSocket from 'ws';
import { TestUser } from '../../support/context';
import { Frame } from '../../support/test-client';
import { autoDeliverAck, isAnswerTo, isStrictlyIncreasing, sleep, waitFor } from '../../support/helpers';
import {
  Answer,
  classify,
  expectationFor,
  expectationForText,
  Expectation,
  FIELD_NAMES,
  FRAME_TYPES,
  matchAnswers,
  missingAnswers,
  notJson,
  Sent,
  World,
} from './frame-oracle';
import { OwnStack, startOwnStack } from '../../support/own-stack';

/**
 * A frame fuzzer: ≥ 10,000 random and mutated frames from several connections while a
 * well-behaved client chats. Every answer is checked against an oracle written from docs/protocol.md §3
 * (frame-oracle.ts): each frame gets exactly the answers the protocol allows (an `error` with a
 * listed code and the right `ref` for a bad one, the normal answer for a valid one, a close 1009
 * for an oversized one), no service dies, nothing leaks, and the clean client loses nothing.
 *
 * It runs on a stack of its own with one partition per topic: a frame that wedges a partition
 * then wedges the clean client's too (so it is found), and a frame that kills a service does not
 * take the shared stack down with it.
 *
 * Replay: SECURITY_FUZZ_SEED=<seed> (printed), SECURITY_FUZZ_FRAMES=<n>. To look past known
 * problems: SECURITY_FUZZ_AVOID=deep,nul,surrogate,hugeseq (debugging only).
 */

const SEED = Number(process.env.SECURITY_FUZZ_SEED ?? 20261125);
const FRAMES = Number(process.env.SECURITY_FUZZ_FRAMES ?? 10_000);
const AVOID = new Set((process.env.SECURITY_FUZZ_AVOID ?? '').split(',').filter(Boolean));
const WORKERS = 6;
const BATCH = 40;
const MAX_FRAME = 64 * 1024;
const ID = '@@ID@@';
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

interface Built {
  text?: string;
  binary?: Uint8Array;
  /** Bytes sent as a text frame (not valid UTF-8). */
  badText?: Uint8Array;
  expectation?: Expectation;
  /** Close codes that are a correct answer to this frame. */
  closes?: number[];
}

interface Planned {
  category: string;
  build: (tag: string, world: World) => Built;
}

interface WorkerWorld {
  index: number;
  user: TestUser;
  own: string;
  foreign: string[];
  ghost: string;
  gateway: number;
}

// ---- generators ---------------------------------------------------------------------------

const c = <T>(value: T) => fc.constant(value);

function arbitraries(w: WorkerWorld) {
  const key = fc.string({ maxLength: 12 }).filter((k) => !PROTO_KEYS.includes(k));
  const seq = fc.oneof(
    { weight: 6, arbitrary: fc.nat({ max: 60 }) },
    { weight: 2, arbitrary: fc.nat() },
    {
      weight: AVOID.has('hugeseq') ? 0 : 1,
      arbitrary: fc.constantFrom(2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 1e20, 1e300),
    },
  );
  const positive = seq.map((s) => Math.max(1, s));
  const conversation = fc.oneof(
    { weight: 8, arbitrary: c(w.own) },
    { weight: 1, arbitrary: fc.constantFrom(...w.foreign) },
    { weight: 1, arbitrary: c(w.ghost) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/) },
  );
  const text = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  );
  const object = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
  const limit = fc.integer({ min: 1, max: 200 });

  const valid: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        type: c('send'),
        clientMsgId: c(ID),
        conversationId: conversation,
        contentType: c('text'),
        body: fc.record({ text }, { requiredKeys: ['text'] }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        type: c('send'),
        clientMsgId: c(ID),
        conversationId: conversation,
        contentType: fc.constantFrom('image', 'file', 'custom'),
        body: object,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: c('recall'),
        clientMsgId: c(ID),
        conversationId: conversation,
        targetSeq: positive,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constantFrom('deliver_ack', 'read'),
        conversationId: conversation,
        seq,
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: c('typing'), conversationId: conversation }) },
    {
      weight: 2,
      arbitrary: fc.record(
        { type: c('sync'), reqId: c(ID), cursors: fc.dictionary(conversation, seq, { maxKeys: 3 }), limit },
        { requiredKeys: ['type', 'reqId'] },
      ),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.record(
          { type: c('history'), reqId: c(ID), conversationId: conversation, afterSeq: seq, limit },
          { requiredKeys: ['type', 'reqId', 'conversationId', 'afterSeq'] },
        ),
        fc.record(
          { type: c('history'), reqId: c(ID), conversationId: conversation, beforeSeq: positive, limit },
          { requiredKeys: ['type', 'reqId', 'conversationId', 'beforeSeq'] },
        ),
      ),
    },
    { weight: 1, arbitrary: fc.record({ type: c('conversations'), reqId: c(ID) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        type: c('receipts'),
        reqId: c(ID),
        conversationId: conversation,
        seq: positive,
      }),
    },
    { weight: 1, arbitrary: c({ type: 'ping' }) },
  );

  const weird: fc.Arbitrary<unknown> = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom<unknown>(
      -1,
      0,
      1.5,
      -0,
      2 ** 53 + 2,
      1e308,
      -1e308,
      '',
      ' ',
      '0',
      'null',
      true,
      false,
      null,
      [],
      {},
      'x'.repeat(65),
      '🙂'.repeat(20),
      '\u0000',
      ID,
      w.own,
    ),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.integer(),
    fc.double(),
  );

  type Mutation =
    | { op: 'delete'; pick: number }
    | { op: 'set'; pick: number; value: unknown }
    | { op: 'add'; key: string; value: unknown }
    | { op: 'retype'; type: string }
    | { op: 'id'; value: string };
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: c('delete' as const), pick: fc.nat() }),
    { weight: 3, arbitrary: fc.record({ op: c('set' as const), pick: fc.nat(), value: weird }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: c('add' as const),
        key: fc.oneof(fc.constantFrom(...FIELD_NAMES, 'userId', 'senderId', 'messageId', 'extra'), key),
        value: weird,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: c('retype' as const),
        type: fc.oneof(
          fc.constantFrom(...FRAME_TYPES),
          fc.constantFrom('Send', 'PING', 'send ', '', 'ack', 'message', 'error', 'welcome', 'receipt'),
          fc.string({ maxLength: 10 }),
        ),
      }),
    },
    fc.record({
      op: c('id' as const),
      value: fc.constantFrom(`${ID} x`, ID.repeat(12), '', `${ID}/..`, `${ID}é`, `${ID}\u0000`, ` ${ID}`),
    }),
  );
  const mutate = (frame: Record<string, unknown>, mutations: Mutation[]) => {
    const out: Record<string, unknown> = { ...frame };
    for (const m of mutations) {
      const keys = Object.keys(out);
      if (m.op === 'delete' && keys.length > 0) delete out[keys[m.pick % keys.length]];
      else if (m.op === 'set' && keys.length > 0) out[keys[m.pick % keys.length]] = m.value;
      else if (m.op === 'add' && !PROTO_KEYS.includes(m.key)) out[m.key] = m.value;
      else if (m.op === 'retype') out.type = m.type;
      else if (m.op === 'id') out[Object.hasOwn(out, 'reqId') ? 'reqId' : 'clientMsgId'] = m.value;
    }
    return out;
  };
  const mutated = fc
    .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([frame, mutations]) => mutate(frame, mutations));
  const validText = valid.map((v) => JSON.stringify(v));

  const textFrame = (category: string, arb: fc.Arbitrary<string>): fc.Arbitrary<Planned> =>
    arb.map((t) => ({ category, build: (tag: string) => ({ text: t.split(ID).join(tag) }) }));

  const raw = fc.oneof(
    validText.chain((t) => fc.nat({ max: Math.max(0, t.length - 1) }).map((k) => t.slice(0, k))),
    fc
      .tuple(validText, fc.constantFrom('}', ']', ',', ' x', '\u0000', '{}', '//c', '"'))
      .map(([t, s]) => t + s),
    validText.map((t) => ` \n\t${t}\r\n `),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.constantFrom(
      '',
      'null',
      'undefined',
      'NaN',
      '{"type":"ping",}',
      "{'type':'ping'}",
      '[{"type":"ping"}]',
      '{"type":"send","type":"ping"}',
      '\uFEFF{"type":"ping"}',
      '{"type":"ping"}{"type":"ping"}',
    ),
  );

  const deep: fc.Arbitrary<Planned> = fc
    .record({
      kind: fc.constantFrom('array', 'object'),
      where: fc.constantFrom('body', 'extra'),
      depth: fc.nat(),
    })
    .map(({ kind, where, depth }) => {
      const max = (kind === 'array' ? 12_000 : 5_000) * (where === 'extra' ? 2 : 1);
      const d = 1 + (depth % max);
      const nest = kind === 'array' ? '['.repeat(d) + ']'.repeat(d) : '{"a":'.repeat(d) + '1' + '}'.repeat(d);
      return {
        category: `deep-${where}`,
        build: (tag: string) => {
          if (where === 'extra')
            return { text: `{"type":"ping","x":${nest}}`, expectation: notJson('deep unknown field') };
          const body = `{"d":${nest}}`;
          const options: Expectation['options'] = [
            'ack',
            'error:bad_request',
            'error:rate_limited',
            'error:unavailable',
          ];
          if (Buffer.byteLength(body) > 32 * 1024) options.push('error:too_large');
          return {
            text: `{"type":"send","clientMsgId":"${tag}","conversationId":"${w.own}","contentType":"custom","body":${body}}`,
            expectation: {
              options,
              silentOk: false,
              ids: [tag],
              mustCarry: [tag],
              reason: `body nested ${d} deep`,
            },
          };
        },
      };
    });

  const nearLimit: fc.Arbitrary<Planned> = fc
    .record({ delta: fc.integer({ min: -48, max: 48 }), kind: fc.constantFrom('padding', 'body') })
    .map(({ delta, kind }) => ({
      category: delta > 0 ? 'oversized' : 'near-limit',
      build: (tag: string, world: World) => {
        const size = MAX_FRAME + delta;
        const shell =
          kind === 'padding'
            ? { type: 'ping', padding: '' }
            : {
                type: 'send',
                clientMsgId: tag,
                conversationId: w.own,
                contentType: 'custom',
                body: { p: '' },
              };
        const room = size - Buffer.byteLength(JSON.stringify(shell));
        const frame =
          kind === 'padding'
            ? { ...shell, padding: 'p'.repeat(room) }
            : { ...shell, body: { p: 'p'.repeat(room) } };
        const text = JSON.stringify(frame);
        return size > MAX_FRAME
          ? { text, closes: [1009] }
          : { text, expectation: expectationFor(frame, world) };
      },
    }));

  const badUtf8: fc.Arbitrary<Planned> = validText.map((t) => ({
    category: 'invalid-utf8',
    build: (tag: string) => {
      const bytes = Buffer.from(t.split(ID).join(tag));
      const at = Math.floor(bytes.length / 2);
      return {
        badText: Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe]), bytes.subarray(at)]),
        expectation: notJson('not UTF-8'),
        closes: [1007],
      };
    },
  }));

  const binary: fc.Arbitrary<Planned> = fc
    .oneof(
      fc.uint8Array({ maxLength: 300 }),
      validText.map((t) => new Uint8Array(Buffer.from(t))),
    )
    .map((bytes) => ({
      category: 'binary',
      build: () => ({ binary: bytes, expectation: notJson('binary frame') }),
    }));

  return fc.oneof(
    { weight: 25, arbitrary: textFrame('valid', validText) },
    {
      weight: 35,
      arbitrary: textFrame(
        'mutated',
        mutated.map((v) => JSON.stringify(v)),
      ),
    },
    {
      weight: 8,
      arbitrary: textFrame(
        'random-json',
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      ),
    },
    {
      weight: 10,
      arbitrary: textFrame(
        'random-object',
        fc
          .tuple(
            fc.oneof(fc.constantFrom(...FRAME_TYPES), fc.string({ maxLength: 12 })),
            fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), key), weird, { maxKeys: 5 }),
          )
          .map(([type, rest]) => JSON.stringify({ ...rest, type })),
      ),
    },
    { weight: 12, arbitrary: textFrame('raw-text', raw) },
    { weight: 4, arbitrary: binary },
    { weight: AVOID.has('deep') ? 0 : 3, arbitrary: deep },
    { weight: 2, arbitrary: nearLimit },
    { weight: 1, arbitrary: badUtf8 },
  );
}

/** SECURITY_FUZZ_AVOID: rewrites a frame to step around known problems (for exploring past them). */
function avoidKnown(text: string): string {
  let out = text;
  if (AVOID.has('nul'))
    out = out
      .replace(/\\u0000/g, '\\u0001')
      .split('\u0000')
      .join('\u0001');
  if (AVOID.has('surrogate')) out = out.replace(/\\u[dD][89a-fA-F][0-9a-fA-F]{2}/g, 'S');
  if (AVOID.has('hugeseq')) {
    try {
      const value: unknown = JSON.parse(out);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const record = value as Record<string, unknown>;
        for (const k of ['seq', 'targetSeq', 'afterSeq', 'beforeSeq'])
          if (typeof record[k] === 'number' && Math.abs(record[k]) > Number.MAX_SAFE_INTEGER) record[k] = 1;
        out = JSON.stringify(record);
      }
    } catch {
      // not JSON: nothing to clamp
    }
  }
  return out;
}

// ---- connections --------------------------------------------------------------------------

class FuzzConnection {
  readonly sent: Sent[] = [];
  readonly answers: Answer[] = [];
  readonly problems: string[] = [];
  readonly acks: Frame[] = [];
  required = 0;
  pongs = 0;
  /** Sent frames (by index) that owe an answer carrying one of their ids and did not get it yet. */
  readonly pending = new Set<number>();
  private readonly pendingById = new Map<string, number[]>();
  closeCode?: number;

  private constructor(
    readonly ws: WebSocket,
    readonly world: World,
    readonly label: string,
  ) {
    ws.on('message', (data: Buffer) => this.onFrame(data.toString('utf8')));
    ws.on('close', (code) => (this.closeCode = code));
    ws.on('error', () => undefined);
  }

  static open(
    url: string,
    token: string,
    deviceId: string,
    world: World,
    label: string,
  ): Promise<FuzzConnection> {
    const ws = new WebSocket(
      `${url.replace(/^http/, 'ws')}/ws?deviceId=${deviceId}&token=${encodeURIComponent(token)}`,
    );
    const conn = new FuzzConnection(ws, world, label);
    return new Promise((resolve, reject) => {
      ws.once('message', () => resolve(conn)); // welcome
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  private onFrame(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      this.problems.push(`${this.label}: server sent a frame that is not JSON: ${text.slice(0, 120)}`);
      return;
    }
    const classified = classify(frame);
    if (classified.answer) {
      this.answers.push({ kind: classified.kind, id: classified.id, raw: text.slice(0, 200) });
      if (classified.id !== undefined) {
        const index = this.pendingById.get(classified.id)?.find((i) => this.pending.has(i));
        if (index !== undefined) this.pending.delete(index);
      }
      if (classified.kind === 'pong') this.pongs++;
      if (classified.kind === 'ack') this.acks.push(frame);
      return;
    }
    if (classified.problem) this.problems.push(`${this.label}: ${classified.problem}`);
    // Pushes only ever for the user's own conversations.
    if (
      ['message', 'receipt', 'typing'].includes(frame.type) &&
      !this.world.own.has(frame.conversationId as string)
    )
      this.problems.push(`${this.label}: LEAK: pushed ${text.slice(0, 200)}`);
  }

  /** Sends one built frame and records what it expects. */
  send(built: Built, sample: string): void {
    if (built.text !== undefined) this.ws.send(built.text);
    else if (built.binary) this.ws.send(built.binary, { binary: true });
    else if (built.badText) this.ws.send(built.badText, { binary: false });
    if (built.expectation) this.record(built.expectation, sample);
  }

  record(expectation: Expectation, sample: string): void {
    this.sent.push({ expectation, sample });
    if (!expectation.silentOk) this.required++;
    if (!expectation.silentOk && expectation.mustCarry.length > 0) {
      const index = this.sent.length - 1;
      this.pending.add(index);
      for (const id of expectation.ids)
        this.pendingById.set(id, [...(this.pendingById.get(id) ?? []), index]);
    }
  }
}

const sampleOf = (built: Built): string => {
  const body =
    built.text ??
    (built.binary ? `<binary ${built.binary.length} B>` : `<bad utf-8 ${built.badText?.length} B>`);
  return body.length > 160 ? `${body.slice(0, 150)}…(${body.length} chars)` : body;
};

// ---- the run --------------------------------------------------------------------------------

describe('security: the fuzzer’s oracle', () => {
  it('reads docs/protocol.md §3 as written (the oracle’s own check)', () => {
    const world: World = { own: new Set(['mine']), existing: new Set(['mine', 'theirs']) };
    const e = (v: unknown) => expectationFor(v, world);
    expect(e({ type: 'ping' })).toMatchObject({ options: ['pong'], silentOk: false });
    expect(e({ type: 'ping', x: 1 }).options).toEqual(['error:bad_request']);
    expect(
      e({
        type: 'send',
        clientMsgId: 'm1',
        conversationId: 'mine',
        contentType: 'text',
        body: { text: 'x' },
      }),
    ).toMatchObject({
      options: expect.arrayContaining(['ack']),
      mustCarry: ['m1'],
    });
    expect(
      e({
        type: 'send',
        clientMsgId: 'm1',
        conversationId: 'theirs',
        contentType: 'text',
        body: { text: 'x' },
      }).options,
    ).toContain('error:forbidden');
    expect(
      e({ type: 'send', clientMsgId: 'm1', conversationId: 'mine', contentType: 'text', body: { text: '' } })
        .options,
    ).toEqual(['error:bad_request']);
    expect(
      e({
        type: 'send',
        clientMsgId: 'm1',
        conversationId: 'mine',
        contentType: 'custom',
        body: { p: 'x'.repeat(33_000) },
      }).options,
    ).toEqual(['error:too_large']);
    expect(e({ type: 'read', conversationId: 'mine', seq: 3 })).toMatchObject({ silentOk: true });
    expect(e({ type: 'read', conversationId: 'theirs', seq: 3 })).toMatchObject({ silentOk: false });
    expect(
      e({ type: 'history', reqId: 'h', conversationId: 'mine', afterSeq: 1, beforeSeq: 2 }).options,
    ).toEqual(['error:bad_request']);
    expect(e({ type: 'sync', reqId: 's', cursors: { mine: 1, theirs: 0 } }).options).toContain(
      'error:forbidden',
    );
    expect(expectationForText('{"type":"ping"', world).options).toEqual(['error:bad_request']);
    // The matcher: a pong and an anonymous bad_request answer a ping and a bad frame, in any order.
    const sent: Sent[] = [
      { expectation: e({ type: 'ping' }), sample: 'ping' },
      { expectation: e({ type: 'ping', x: 1 }), sample: 'bad' },
    ];
    expect(
      matchAnswers(sent, [
        { kind: 'error:bad_request', raw: 'e' },
        { kind: 'pong', raw: 'p' },
      ]),
    ).toEqual([]);
    expect(
      matchAnswers(sent, [
        { kind: 'pong', raw: 'p' },
        { kind: 'pong', raw: 'p' },
      ]),
    ).toHaveLength(2);
    expect(matchAnswers(sent, [{ kind: 'pong', raw: 'p' }])).toHaveLength(1);
  });
});

describe('security: frame fuzzer', () => {
  let own: OwnStack;

  beforeAll(async () => {
    own = await startOwnStack({
      name: 'sec-fuzz',
      env: {
        KAFKA_PARTITIONS: '1',
        HEARTBEAT_MS: '30000',
        RATE_LIMIT_CONNECTION_PER_SEC: '100000',
        RATE_LIMIT_USER_PER_SEC: '100000',
      },
      instances: { gateway: 2 },
    });
  }, 120_000);

  afterAll(async () => {
    await own?.stop();
  }, 60_000);

  it(`survives ${FRAMES} fuzzed frames from ${WORKERS} connections, answering each as PROTOCOL says, while a clean client loses nothing`, async () => {
    const ctx = own.ctx;
    process.stdout.write(
      `[fuzz] seed ${SEED} (replay: SECURITY_FUZZ_SEED=${SEED}), ${FRAMES} frames${AVOID.size ? `, avoiding ${[...AVOID].join(',')}` : ''}\n`,
    );

    // The clean conversation, and one conversation per fuzzing user.
    const [sender, recipient] = [await ctx.newUser('clean-s'), await ctx.newUser('clean-r')];
    const clean = await ctx.newConversation([sender, recipient]);
    const workers: WorkerWorld[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const [user, partner] = [await ctx.newUser(`fuzz${i}`), await ctx.newUser(`fuzz${i}-p`)];
      workers.push({
        index: i,
        user,
        own: await ctx.newConversation([user, partner]),
        foreign: [clean],
        ghost: `ghost-${i}-${randomUUID().slice(0, 6)}`,
        gateway: i % 2,
      });
    }
    for (const w of workers) w.foreign.push(...workers.filter((x) => x !== w).map((x) => x.own));
    const existing = new Set([clean, ...workers.map((w) => w.own)]);
    const fuzzUsers = new Set(workers.map((w) => w.user.id));

    const s = await ctx.connect(sender, { gateway: 0 });
    const r = await ctx.connect(recipient, { gateway: 1 });
    autoDeliverAck(r);

    // Plans: deterministic from the seed.
    const perWorker = Math.ceil(FRAMES / WORKERS);
    const plans = workers.map((w) => fc.sample(arbitraries(w), { seed: SEED + w.index, numRuns: perWorker }));

    const abort: { reason?: string } = {};
    const connections: FuzzConnection[] = [];
    const categories = new Map<string, number>();
    const closes = new Map<number, number>();
    const problems: string[] = [];
    let framesSent = 0;

    // The clean client chats throughout.
    let fuzzing = true;
    const cleanIds: string[] = [];
    const cleanLoop = (async () => {
      for (let i = 0; (fuzzing || i < 20) && !abort.reason; i++) {
        const id = `clean-${i}`;
        cleanIds.push(id);
        const from = s.frames.length;
        s.send(clean, `clean ${i}`, id);
        const answer = await s.next((f) => isAnswerTo(f, id), 15_000, from).catch(() => undefined);
        if (!answer) {
          problems.push(`clean send ${id} got no answer within 15 s`);
          abort.reason ??= 'the clean client’s send got no answer: the pipeline is stuck';
          return;
        }
      }
    })();

    async function runWorker(w: WorkerWorld): Promise<void> {
      const world: World = { own: new Set([w.own]), existing };
      const open = async (n: number) => {
        const conn = await FuzzConnection.open(
          ctx.gateway(w.gateway),
          w.user.token,
          `fuzz-${w.index}`,
          world,
          `fuzz${w.index}.${n}`,
        );
        connections.push(conn);
        return conn;
      };
      let conn = await open(0);
      let reconnects = 0;
      let stalls = 0;
      /** The frames of the batch in flight, for naming suspects when a service dies. */
      let batch: { category: string; sample: string; length: number }[] = [];
      const plan = plans[w.index];
      const afterClose = async (expected: number[] | undefined) => {
        const code = conn.closeCode!;
        closes.set(code, (closes.get(code) ?? 0) + 1);
        if (!expected?.includes(code)) {
          const suspects = [...batch]
            .sort((a, b) => b.length - a.length)
            .slice(0, 2)
            .map((x) => `[${x.category}, ${x.length} chars] ${x.sample}`);
          problems.push(
            `fuzz${w.index}: connection closed with ${code}; largest frames in flight: ${suspects.join(' | ')}`,
          );
          await sleep(500);
          const dead = (await own.readiness()).filter((x) => x.status !== 200);
          if (dead.length > 0) {
            abort.reason ??= `${dead.map((d) => d.service).join(', ')} stopped answering (connections closed with ${code}; see problems for the frames in flight)`;
            return;
          }
        }
        conn = await open(++reconnects);
      };

      for (let i = 0; i < plan.length && !abort.reason;) {
        // A batch of ordinary frames, then wait for their answers.
        let inBatch = 0;
        batch = [];
        while (i < plan.length && inBatch < BATCH) {
          const planned = plan[i];
          const built = planned.build(`f${w.index}x${i}`, world);
          if (built.text !== undefined) built.text = avoidKnown(built.text);
          if (built.text !== undefined && !built.expectation && !built.closes)
            built.expectation = expectationForText(built.text, world);
          if (built.closes) break; // solitary, below
          categories.set(planned.category, (categories.get(planned.category) ?? 0) + 1);
          conn.send(built, sampleOf(built));
          batch.push({
            category: planned.category,
            sample: sampleOf(built),
            length: built.text?.length ?? built.binary?.length ?? 0,
          });
          framesSent++;
          inBatch++;
          i++;
        }
        if (inBatch > 0) {
          const need = conn.required;
          const answered = await waitFor(
            // Counting answers is not enough: one to a frame that may stay silent could stand in
            // for a late one that is owed, which the next closing frame would then cut off.
            () =>
              (conn.answers.length >= need &&
                conn.pending.size === 0 &&
                missingAnswers(conn.sent, conn.answers) === 0) ||
              conn.closeCode !== undefined,
            'answers',
            8_000,
            5,
          ).catch(() => false);
          if (!answered) {
            stalls++;
            const waiting = [...conn.pending].map(
              (i) => `${conn.sent[i].sample} (${conn.sent[i].expectation.reason})`,
            );
            problems.push(
              `fuzz${w.index}: 8 s after a batch, ${Math.max(0, need - conn.answers.length)} answers missing, no answer yet to: ${waiting.slice(0, 3).join(' / ')}`,
            );
            if (stalls >= 2)
              abort.reason ??= `fuzz${w.index} got no answers twice in a row: stuck (see problems)`;
          } else stalls = 0;
          if (conn.closeCode !== undefined) await afterClose(undefined);
          continue;
        }
        // A frame that may close the connection: send it, then a ping as a marker.
        const planned = plan[i];
        const built = planned.build(`f${w.index}x${i}`, world);
        categories.set(planned.category, (categories.get(planned.category) ?? 0) + 1);
        const pongs = conn.pongs;
        batch = [{ category: planned.category, sample: sampleOf(built), length: built.text?.length ?? 0 }];
        conn.send({ ...built, expectation: undefined }, sampleOf(built));
        conn.ws.send('{"type":"ping"}');
        framesSent++;
        i++;
        const settled = await waitFor(
          () => conn.closeCode !== undefined || conn.pongs > pongs,
          'close or pong',
          8_000,
          5,
        ).catch(() => false);
        if (!settled) {
          problems.push(`fuzz${w.index}: neither closed nor answered after ${sampleOf(built)}`);
          abort.reason ??= `fuzz${w.index} stuck after ${sampleOf(built)}`;
        } else if (conn.closeCode !== undefined) await afterClose(built.closes);
        else {
          // Not closed: it must then have been answered like any frame (and 1009 was owed for oversized ones).
          if (built.expectation) conn.record(built.expectation, sampleOf(built));
          else
            problems.push(
              `fuzz${w.index}: not closed with ${built.closes?.join('/')} after ${sampleOf(built)}`,
            );
          conn.record(expectationFor({ type: 'ping' }, world), 'marker ping');
        }
      }
    }

    const started = Date.now();
    await Promise.all(
      workers.map((w) =>
        runWorker(w).catch(async (e: Error) => {
          const dead = (await own.readiness()).filter((x) => x.status !== 200).map((x) => x.service);
          abort.reason ??= `worker ${w.index} failed: ${e.message}${dead.length ? `; not answering: ${dead.join(', ')}` : ''}`;
        }),
      ),
    );
    fuzzing = false;
    await cleanLoop;
    const fuzzMs = Date.now() - started;
    await sleep(1_000); // late and duplicate answers

    // Statistics.
    const kinds = new Map<string, number>();
    for (const conn of connections)
      for (const a of conn.answers) kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1);
    const fmt = (m: Map<string | number, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k}=${n}`)
        .join(' ');
    process.stdout.write(
      `[fuzz] ${framesSent} frames in ${fuzzMs} ms on ${connections.length} connections; clean sends ${cleanIds.length}\n` +
        `[fuzz] categories: ${fmt(categories)}\n[fuzz] answers: ${fmt(kinds)}\n[fuzz] closes: ${fmt(closes) || 'none'}\n`,
    );

    if (abort.reason) {
      const logs = own.errorLines(3);
      expect({ aborted: abort.reason, problems: problems.slice(0, 20), logs }).toEqual({
        aborted: undefined,
        problems: [],
        logs: [],
      });
    }
    expect(framesSent).toBeGreaterThanOrEqual(FRAMES);

    // 1. Every frame got what PROTOCOL allows, and nothing leaked.
    for (const conn of connections) {
      problems.push(...conn.problems);
      problems.push(...matchAnswers(conn.sent, conn.answers).map((p) => `${conn.label}: ${p}`));
    }
    // 2. No service died.
    const ready = await own.readiness();
    problems.push(
      ...ready.filter((x) => x.status !== 200).map((x) => `${x.service} not ready (${x.status})`),
    );
    // 3. The clean client: every send acked exactly once, in order; the recipient has them all, in order, and nothing else.
    const cleanAcks: Frame[] = [];
    for (const id of cleanIds) {
      const answers = s.frames.filter((f) => isAnswerTo(f, id));
      if (answers.length !== 1 || answers[0].type !== 'ack')
        problems.push(`clean ${id}: answers ${JSON.stringify(answers)}`);
      else cleanAcks.push(answers[0]);
    }
    if (!isStrictlyIncreasing(cleanAcks.map((a) => a.seq as number)))
      problems.push('clean acks out of order');
    await r
      .collect((f) => f.type === 'message' && f.conversationId === clean, cleanAcks.length, 20_000)
      .catch(() => undefined);
    const received = [...new Map(r.messages(clean).map((m) => [m.seq as number, m])).values()].sort(
      (x, y) => (x.seq as number) - (y.seq as number),
    );
    if (
      JSON.stringify(received.map((m) => m.messageId)) !== JSON.stringify(cleanAcks.map((a) => a.messageId))
    )
      problems.push(
        `the recipient has ${received.length} clean messages, ${cleanAcks.length} were acked (or not the same, or not in order)`,
      );
    const intruders = [...s.frames, ...r.frames].filter(
      (f) => fuzzUsers.has(f.userId as string) || fuzzUsers.has(f.senderId as string),
    );
    problems.push(
      ...intruders.slice(0, 5).map((f) => `LEAK: the clean pair got ${JSON.stringify(f).slice(0, 200)}`),
    );
    // 4. Receipts still flow (a wedged signals partition would stop them).
    if (cleanAcks.length > 0) {
      const last = cleanAcks[cleanAcks.length - 1].seq as number;
      const from = s.frames.length;
      r.sendRaw({ type: 'read', conversationId: clean, seq: last });
      const receipt = await s
        .next((f) => f.type === 'receipt' && f.kind === 'read' && f.seq === last, 10_000, from)
        .catch(() => undefined);
      if (!receipt)
        problems.push('no read receipt for the clean conversation: the signals pipeline is stuck');
    }
    // 5. The fuzzers' own conversations: nothing stored twice, every ack as stored.
    for (const w of workers) {
      const stored: Frame[] = [];
      for (let afterSeq = 0; ;) {
        const page = await ctx.admin(
          'GET',
          `/admin/conversations/${w.own}/messages?afterSeq=${afterSeq}&limit=200`,
        );
        stored.push(...(page.body.messages as Frame[]));
        if (!page.body.hasMore || page.body.messages.length === 0) break;
        afterSeq = stored[stored.length - 1].seq as number;
      }
      const byKey = new Map<string, Frame>();
      for (const m of stored) {
        const key = `${m.senderId}|${m.clientMsgId}`;
        if (byKey.has(key)) problems.push(`fuzz${w.index}: ${key} stored twice`);
        byKey.set(key, m);
      }
      for (const conn of connections.filter((x) => x.label.startsWith(`fuzz${w.index}.`)))
        for (const ack of conn.acks) {
          const m = byKey.get(`${w.user.id}|${ack.clientMsgId}`);
          if (ack.conversationId !== w.own) problems.push(`fuzz${w.index}: acked into ${ack.conversationId}`);
          else if (!m || m.seq !== ack.seq || m.messageId !== ack.messageId)
            problems.push(
              `fuzz${w.index}: ack ${JSON.stringify(ack)} does not match storage ${JSON.stringify(m)?.slice(0, 200)}`,
            );
        }
    }

    const shown = problems.slice(0, 40);
    if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
    expect({ problems: shown, logs: problems.length ? own.errorLines(2) : [] }).toEqual({
      problems: [],
      logs: [],
    });
  }, 180_000);
});
