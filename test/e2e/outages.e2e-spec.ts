import { pgStart, pgStop, redisStart, redisStop } from '../chaos/dependencies';
import { setup } from '../support/context';
import {
  fullHistory,
  isAnswerTo,
  isStrictlyIncreasing,
  sendAndAck,
  sleep,
  waitFor,
} from '../support/helpers';
import { sendInOrderThroughFaults } from '../support/ordered-sender';
import { Frame, TestClient } from '../support/test-client';

/**
 * Outages of Redis and PostgreSQL as a client sees them (docs/protocol.md G3, §4): a send refused while
 * one is down never lets a later send of its connection overtake it, and every answer of an
 * outage is `unavailable` (safe to retry), never `internal`. Stops the machine's Redis and
 * PostgreSQL, so it runs after every other spec but the chaos profile (see test-sequencer.js),
 * and always starts them again.
 */
describe('outages of Redis and PostgreSQL', () => {
  const ctx = setup();
  afterAll(async () => {
    await redisStart();
    await pgStart();
  });

  async function pair() {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    return { alice, bob, conversationId };
  }

  /** The acked seqs of a run in the order the client first sent them. */
  const seqsInSendOrder = (r: { firstSent: string[]; acks: Map<string, Frame> }) =>
    r.firstSent.map((id) => r.acks.get(id)!.seq as number);

  async function expectStoredInSendOrder(client: TestClient, conversationId: string, ids: string[]) {
    const stored = await waitFor(
      async () => {
        const all = await fullHistory(client, conversationId).catch(() => []);
        return all.length >= ids.length && all;
      },
      'the history of every send',
      30_000,
      250,
    );
    expect(stored.map((m) => m.clientMsgId)).toEqual(ids);
  }

  it('keeps a connection’s sends in send order across a Redis restart, its refused sends resent in order (G3)', async () => {
    const { alice, conversationId } = await pair();
    const a = await ctx.connect(alice);
    const run = sendInOrderThroughFaults(a, conversationId, { count: 150, paceMs: 20, prefix: 'redis' });
    await sleep(800);
    await redisStop();
    // Long enough that ioredis gives up on queued commands (it does after 4 and 8 reconnects).
    await sleep(5000);
    await redisStart();
    const result = await run;

    expect(isStrictlyIncreasing(seqsInSendOrder(result))).toBe(true);
    // The fault met sends in flight, and every refusal said "retry".
    expect(result.errors.get('unavailable') ?? 0).toBeGreaterThan(0);
    expect(result.resent).toBeGreaterThan(0);
    expect(result.errors.get('internal')).toBeUndefined();
    await expectStoredInSendOrder(a, conversationId, result.firstSent);
  }, 120_000);

  it('keeps a connection’s sends in send order across a PostgreSQL restart (G3)', async () => {
    const { alice, conversationId } = await pair();
    const a = await ctx.connect(alice);
    await sendAndAck(a, conversationId, 'before the restart');
    const run = sendInOrderThroughFaults(a, conversationId, { count: 150, paceMs: 20, prefix: 'pg' });
    await sleep(800);
    await pgStop();
    await sleep(2000);
    await pgStart();
    const result = await run;

    expect(isStrictlyIncreasing(seqsInSendOrder(result))).toBe(true);
    expect(result.errors.get('internal')).toBeUndefined();
    const stored = await fullHistory(a, conversationId);
    expect(stored.slice(1).map((m) => m.clientMsgId)).toEqual(result.firstSent);
  }, 120_000);

  it('refuses the sends behind a refused one with its code until the refused one is resent (G3)', async () => {
    const { alice, conversationId } = await pair();
    const other = await pair();
    const a = await ctx.connect(alice);
    const b = await ctx.connect(other.alice);
    await redisStop();
    const first = await a.ackOf(a.send(conversationId, 'first', 'fence-first'));
    expect(first).toMatchObject({ type: 'error', ref: 'fence-first', code: 'unavailable' });
    await redisStart();
    // Redis answers the gateway again: another connection's send goes through.
    await waitFor(
      async () => (await b.ackOf(b.send(other.conversationId, 'probe'), 15_000)).type === 'ack',
      'a send accepted after Redis came back',
      30_000,
      500,
    );

    // A newer send would pass on its own, but the refused one has not been resent yet.
    const second = await a.ackOf(a.send(conversationId, 'second', 'fence-second'));
    expect(second).toMatchObject({ type: 'error', ref: 'fence-second', code: 'unavailable' });

    // Resent oldest first, both are accepted, in that order.
    const from = a.frames.length;
    a.send(conversationId, 'first', 'fence-first');
    a.send(conversationId, 'second', 'fence-second');
    const [ackFirst, ackSecond] = await Promise.all(
      ['fence-first', 'fence-second'].map((id) =>
        a.next(
          (f) => (f.type === 'ack' && f.clientMsgId === id) || (f.type === 'error' && f.ref === id),
          20_000,
          from,
        ),
      ),
    );
    expect([ackFirst.type, ackSecond.type]).toEqual(['ack', 'ack']);
    expect(ackFirst.seq).toBeLessThan(ackSecond.seq);
  }, 90_000);

  it('answers send and history unavailable while Redis is stopped, and sync never internal (§4)', async () => {
    const { alice, conversationId } = await pair();
    const a = await ctx.connect(alice);
    await sendAndAck(a, conversationId, 'stored before the outage');
    await redisStop();
    try {
      expect(await a.ackOf(a.send(conversationId, 'during the outage', 'redis-down'))).toMatchObject({
        type: 'error',
        code: 'unavailable',
      });
      expect(await a.request({ type: 'history', conversationId, afterSeq: 0 })).toMatchObject({
        type: 'error',
        code: 'unavailable',
      });
      // sync reads only PostgreSQL: it may answer, but an outage is never `internal`.
      const sync = await a.request({ type: 'sync' });
      expect(sync.type === 'sync_result' || sync.code === 'unavailable').toBe(true);
      // Readiness asks only what a service uses: storage never touches Redis and stays ready.
      const ready = async (name: string) => {
        const port = ctx.stack.services.find((s) => s.name === name)!.port;
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return { status: res.status, checks: ((await res.json()) as { checks?: object }).checks };
      };
      expect(await ready('storage')).toEqual({ status: 200, checks: { kafka: 'up', postgres: 'up' } });
      expect(await ready('sequencer')).toMatchObject({ status: 503 });
    } finally {
      await redisStart();
    }
  }, 60_000);

  it('answers send, recall, sync and history unavailable while PostgreSQL is stopped, and REST 503 (§4)', async () => {
    const { alice, conversationId } = await pair();
    // Its membership is not cached yet: a send to it must ask PostgreSQL.
    const uncached = await ctx.newConversation([alice, await ctx.newUser('carol')]);
    const a = await ctx.connect(alice);
    const stored = await sendAndAck(a, conversationId, 'stored before the outage');
    await pgStop();
    try {
      expect(await a.request({ type: 'history', conversationId, afterSeq: 0 })).toMatchObject({
        type: 'error',
        code: 'unavailable',
      });
      expect(await a.request({ type: 'sync' })).toMatchObject({ type: 'error', code: 'unavailable' });
      expect(await a.ackOf(a.send(uncached, 'to an uncached conversation', 'pg-down-send'))).toMatchObject({
        type: 'error',
        code: 'unavailable',
      });
      a.sendRaw({ type: 'recall', clientMsgId: 'pg-down-recall', conversationId, targetSeq: stored.seq });
      expect(await a.ackOf('pg-down-recall')).toMatchObject({ type: 'error', code: 'unavailable' });
      const rest = await ctx.admin('GET', `/admin/conversations/${conversationId}`);
      expect(rest).toEqual({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', message: expect.any(String) },
      });
    } finally {
      await pgStart();
    }
    // The refused send goes through once PostgreSQL is back.
    const ack = await waitFor(
      async () => {
        const from = a.frames.length;
        a.send(uncached, 'to an uncached conversation', 'pg-down-send');
        const answer = await a.next((f) => isAnswerTo(f, 'pg-down-send'), 15_000, from);
        return answer.type === 'ack' && answer;
      },
      'the refused send accepted after PostgreSQL came back',
      60_000,
      1000,
    );
    expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'pg-down-send', conversationId: uncached });
  }, 120_000);
});
