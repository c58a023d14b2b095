import {
  check,
  DeliveryWatch,
  type CheckInput,
  type ConnectionLog,
  type MessageRef,
  type WireEvent,
} from './checker';
import { buildSchedule, FAULT_KINDS, prng, type FaultKind } from './fault-schedule';

const msg = (seq: number, clientMsgId: string, senderId = 'a', conversationId = 'c1'): MessageRef => ({
  conversationId,
  seq,
  messageId: `m-${conversationId}-${seq}`,
  senderId,
  clientMsgId,
});

/** A clean world: user a (devices a1) sends x, y to c1 with b (devices b1, b2); everyone has everything. */
function world(): CheckInput {
  const x = msg(1, 'x');
  const y = msg(2, 'y');
  const timeline = { c1: [x, y] };
  return {
    members: { c1: ['a', 'b'] },
    devices: [
      { userId: 'a', deviceId: 'a1', received: [x, y], timeline },
      { userId: 'b', deviceId: 'b1', received: [x, y], timeline },
      { userId: 'b', deviceId: 'b2', received: [y, x], timeline },
    ],
    connections: [
      {
        connectionId: 'a1/c1',
        userId: 'a',
        deviceId: 'a1',
        events: [
          { kind: 'send', clientMsgId: 'x' },
          { kind: 'send', clientMsgId: 'y' },
          { kind: 'ack', clientMsgId: 'x', conversationId: 'c1', seq: 1, messageId: x.messageId },
          { kind: 'ack', clientMsgId: 'y', conversationId: 'c1', seq: 2, messageId: y.messageId },
        ],
      },
    ],
    sends: [
      {
        clientMsgId: 'x',
        conversationId: 'c1',
        senderId: 'a',
        deviceId: 'a1',
        ack: { seq: 1, messageId: x.messageId },
      },
      {
        clientMsgId: 'y',
        conversationId: 'c1',
        senderId: 'a',
        deviceId: 'a1',
        ack: { seq: 2, messageId: y.messageId },
      },
    ],
    db: [x, y],
  };
}

/**
 * A consistent world for order cases: device a1 of user a sent every clientMsgId of `seqs`
 * (those with a seq were acked and stored, both members hold them), over the given connections.
 * `to` names a send's conversation when it is not c1.
 */
function sentWorld(
  seqs: Record<string, number | undefined>,
  connections: ConnectionLog[],
  to: Record<string, string> = {},
): CheckInput {
  const stored = Object.entries(seqs).flatMap(([id, seq]) =>
    seq === undefined ? [] : [msg(seq, id, 'a', to[id] ?? 'c1')],
  );
  const timeline: Record<string, MessageRef[]> = { c1: [], c2: [] };
  for (const m of [...stored].sort((p, q) => p.seq - q.seq)) timeline[m.conversationId].push(m);
  return {
    members: { c1: ['a', 'b'], c2: ['a', 'b'] },
    devices: [
      { userId: 'a', deviceId: 'a1', received: stored, timeline },
      { userId: 'b', deviceId: 'b1', received: stored, timeline },
    ],
    connections,
    sends: Object.entries(seqs).map(([id, seq]) => ({
      clientMsgId: id,
      conversationId: to[id] ?? 'c1',
      senderId: 'a',
      deviceId: 'a1',
      ack: seq === undefined ? undefined : { seq, messageId: `m-${to[id] ?? 'c1'}-${seq}` },
    })),
    db: stored,
  };
}

const conn = (connectionId: string, events: WireEvent[]): ConnectionLog => ({
  connectionId,
  userId: 'a',
  deviceId: 'a1',
  events,
});
const send = (clientMsgId: string, at: number): WireEvent => ({ kind: 'send', clientMsgId, at });
const refuse = (clientMsgId: string, code: string, at: number): WireEvent => ({
  kind: 'error',
  clientMsgId,
  code,
  at,
});
const ack = (clientMsgId: string, seq: number, at: number, conversationId = 'c1'): WireEvent => ({
  kind: 'ack',
  clientMsgId,
  conversationId,
  seq,
  messageId: `m-${conversationId}-${seq}`,
  at,
});

describe('chaos checker', () => {
  it('passes a clean run and counts what it checked', () => {
    const r = check(world());
    expect(r).toMatchObject({ sent: 2, acked: 2, stored: 2, lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(r.deliveriesChecked).toBe(6);
    expect(r.orderChecked).toBe(2);
    expect(r.findings).toEqual([]);
  });

  it('reports an acked message missing on one member device as lost', () => {
    const w = world();
    w.devices[2].timeline = { c1: [w.db[0]] };
    const r = check(w);
    expect(r.lost).toBe(1);
    expect(r.findings[0].detail).toContain('b2');
  });

  it('reports an acked message missing from the database as lost', () => {
    const w = world();
    w.db = [w.db[0]];
    for (const d of w.devices) d.timeline = { c1: [w.db[0]] };
    expect(check(w).lost).toBeGreaterThanOrEqual(1);
  });

  it('reports one clientMsgId acked with two different seqs as duplicated', () => {
    const w = world();
    w.connections.push({
      connectionId: 'a1/c2',
      userId: 'a',
      deviceId: 'a1',
      events: [
        { kind: 'send', clientMsgId: 'x' },
        { kind: 'ack', clientMsgId: 'x', conversationId: 'c1', seq: 3, messageId: 'm-other' },
      ],
    });
    expect(check(w).duplicated).toBe(1);
  });

  it('reports one clientMsgId stored twice as duplicated', () => {
    const w = world();
    const twin = { ...msg(3, 'x'), messageId: 'm-twin' };
    w.db.push(twin);
    for (const d of w.devices) d.timeline = { c1: [...w.db] };
    expect(check(w).duplicated).toBeGreaterThanOrEqual(1);
  });

  it('reports a device holding another messageId at a seq than the database as duplicated', () => {
    const w = world();
    w.devices[1].timeline = { c1: [w.db[0], { ...w.db[1], messageId: 'm-else' }] };
    expect(check(w).duplicated).toBe(1);
  });

  it('reports the same seq given twice to the app as duplicated', () => {
    const w = world();
    w.devices[1].received = [w.db[0], w.db[1], w.db[1]];
    expect(check(w).duplicated).toBe(1);
  });

  it('reports a device view that is not strictly increasing as out of order', () => {
    const w = world();
    w.devices[1].timeline = { c1: [w.db[1], w.db[0]] };
    expect(check(w).outOfOrder).toBe(1);
  });

  it("reports a connection's later send with a lower seq as out of order", () => {
    const w = world();
    w.connections[0].events = [
      { kind: 'send', clientMsgId: 'y' },
      { kind: 'send', clientMsgId: 'x' },
      { kind: 'ack', clientMsgId: 'x', conversationId: 'c1', seq: 1, messageId: w.db[0].messageId },
      { kind: 'ack', clientMsgId: 'y', conversationId: 'c1', seq: 2, messageId: w.db[1].messageId },
    ];
    expect(check(w).outOfOrder).toBe(1);
  });

  it('judges a send this connection refused and that was resent in the order it was first sent', () => {
    // This case once expected no finding: refused sends were left out, their resends being free
    // to come after later sends. G3 (revision 2) refuses every later send behind a refusal that
    // may pass, so y, first sent before x, must get the lower seq.
    const w = world();
    w.connections[0].events = [
      { kind: 'send', clientMsgId: 'y' },
      { kind: 'error', clientMsgId: 'y', code: 'unavailable' },
      { kind: 'send', clientMsgId: 'x' },
      { kind: 'ack', clientMsgId: 'x', conversationId: 'c1', seq: 1, messageId: w.db[0].messageId },
      { kind: 'send', clientMsgId: 'y' },
      { kind: 'ack', clientMsgId: 'y', conversationId: 'c1', seq: 2, messageId: w.db[1].messageId },
    ];
    const r = check(w);
    expect(r.outOfOrder).toBe(1);
    expect(r).toMatchObject({ orderChecked: 2, orderCheckedResent: 1 });
  });

  it('reports issue 12: A refused under a Redis restart, B queued behind it accepted, A resent after B', () => {
    const r = check(
      sentWorld({ A: 202, B: 201 }, [
        conn('a1/c1@gw0', [
          send('A', 1000),
          send('B', 1026),
          refuse('A', 'unavailable', 1400),
          ack('B', 201, 1450),
          send('A', 2400),
          ack('A', 202, 2430),
        ]),
      ]),
    );
    expect(r).toMatchObject({
      lost: 0,
      duplicated: 0,
      outOfOrder: 1,
      orderChecked: 2,
      orderCheckedResent: 1,
    });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0].kind).toBe('out_of_order');
    expect(r.findings[0].detail).toContain('B first sent after A got seq 201 ≤ 202');
    // The evidence: both sends' wire events, in time order.
    expect(r.findings[0].detail).toContain(
      'wire: 1000 a1/c1@gw0 send A | 1026 a1/c1@gw0 send B | 1400 a1/c1@gw0 error unavailable A | ' +
        '1450 a1/c1@gw0 ack 201 B | 2400 a1/c1@gw0 send A | 2430 a1/c1@gw0 ack 202 A',
    );
  });

  it('passes A and B both refused and resent in their original order', () => {
    const r = check(
      sentWorld({ A: 201, B: 202 }, [
        conn('a1/c1', [
          send('A', 1000),
          send('B', 1026),
          refuse('A', 'unavailable', 1400),
          refuse('B', 'unavailable', 1401),
          send('A', 2400),
          send('B', 2401),
          ack('A', 201, 2430),
          ack('B', 202, 2431),
        ]),
      ]),
    );
    expect(r).toMatchObject({ outOfOrder: 0, orderChecked: 2, orderCheckedResent: 2 });
    expect(r.findings).toEqual([]);
  });

  it('gives `internal` no exemption: a bug code that let a later send pass is out of order', () => {
    const r = check(
      sentWorld({ A: 202, B: 201 }, [
        conn('a1/c1', [
          send('A', 1000),
          refuse('A', 'internal', 1010),
          send('B', 1026),
          ack('B', 201, 1040),
          send('A', 2000),
          ack('A', 202, 2010),
        ]),
      ]),
    );
    expect(r.outOfOrder).toBe(1);
  });

  it('leaves a send out that was refused as final and never acked', () => {
    const r = check(
      sentWorld({ A: undefined, B: 201 }, [
        conn('a1/c1', [
          send('A', 1000),
          refuse('A', 'bad_request', 1010),
          send('B', 1026),
          ack('B', 201, 1040),
        ]),
      ]),
    );
    expect(r).toMatchObject({ outOfOrder: 0, orderChecked: 1, orderCheckedResent: 0, unackedNotStored: 1 });
    expect(r.findings).toEqual([]);
  });

  it('leaves a send out that was refused as final and acked anyway (an early copy of the frame), and counts it', () => {
    // A final refusal holds no later send back (G3), so B may pass A.
    const r = check(
      sentWorld({ A: 202, B: 201 }, [
        conn('a1/c1', [
          send('A', 1000),
          refuse('A', 'forbidden', 1010),
          send('B', 1026),
          ack('B', 201, 1040),
          send('A', 1200),
          ack('A', 202, 1210),
        ]),
      ]),
    );
    expect(r).toMatchObject({ outOfOrder: 0, orderChecked: 1, orderSkippedFinal: 1 });
  });

  it("judges sends refused on one connection and acked on the next in the first one's order", () => {
    const c1 = conn('a1/c1', [
      send('A', 1000),
      send('B', 1026),
      refuse('A', 'unavailable', 1400),
      refuse('B', 'unavailable', 1401),
    ]);
    // c2's own first send C comes before the resends: c1's order (A, B) and c2's (C) are separate.
    const inOrder = check(
      sentWorld({ A: 202, B: 203, C: 201 }, [
        c1,
        conn('a1/c2', [
          send('C', 3000),
          ack('C', 201, 3010),
          send('A', 3020),
          send('B', 3021),
          ack('A', 202, 3030),
          ack('B', 203, 3031),
        ]),
      ]),
    );
    expect(inOrder).toMatchObject({ outOfOrder: 0, orderChecked: 3, orderCheckedResent: 2 });
    // The ack on c2 counts for c1: B resent and sequenced before A breaks c1's order.
    const swapped = check(
      sentWorld({ A: 203, B: 202, C: 201 }, [
        c1,
        conn('a1/c2', [
          send('C', 3000),
          ack('C', 201, 3010),
          send('B', 3020),
          send('A', 3021),
          ack('B', 202, 3030),
          ack('A', 203, 3031),
        ]),
      ]),
    );
    expect(swapped.outOfOrder).toBe(1);
    expect(swapped.findings[0].detail).toContain('connection a1/c1: B first sent after A');
  });

  it('does not order a refused send against a later send to another conversation', () => {
    const r = check(
      sentWorld(
        { A: 1, B: 1 },
        [
          conn('a1/c1', [
            send('A', 1000),
            send('B', 1026),
            refuse('A', 'unavailable', 1400),
            ack('B', 1, 1450, 'c2'),
            send('A', 2400),
            ack('A', 1, 2430),
          ]),
        ],
        { B: 'c2' },
      ),
    );
    expect(r).toMatchObject({ outOfOrder: 0, orderChecked: 2, orderCheckedResent: 1 });
    expect(r.findings).toEqual([]);
  });

  it('judges a resend on a later connection by the connection that first carried it (found in a full run)', () => {
    // x and y were sequenced on c1, whose acks were lost with it; on c2 y's retry went out before
    // x's: nothing was first sent on c2, so nothing is out of order there, and c1's order holds.
    const w = world();
    w.connections[0].events = [
      { kind: 'send', clientMsgId: 'x', at: 1 },
      { kind: 'send', clientMsgId: 'y', at: 2 },
    ];
    w.connections.push({
      connectionId: 'a1/c2',
      userId: 'a',
      deviceId: 'a1',
      events: [
        { kind: 'send', clientMsgId: 'y', at: 10 },
        { kind: 'send', clientMsgId: 'x', at: 10 },
        { kind: 'ack', clientMsgId: 'y', conversationId: 'c1', seq: 2, messageId: w.db[1].messageId, at: 11 },
        { kind: 'ack', clientMsgId: 'x', conversationId: 'c1', seq: 1, messageId: w.db[0].messageId, at: 11 },
      ],
    });
    expect(check(w)).toMatchObject({ outOfOrder: 0, orderChecked: 2 });
    // Without the earlier connection's log, the same wire on c2 alone is a violation.
    w.connections.shift();
    expect(check(w).outOfOrder).toBe(1);
  });

  it('checks order per conversation: seqs of two conversations are independent', () => {
    const w = world();
    const z = msg(1, 'z', 'a', 'c2');
    w.members.c2 = ['a'];
    w.db.push(z);
    w.devices[0].timeline = { ...w.devices[0].timeline, c2: [z] };
    w.sends.push({
      clientMsgId: 'z',
      conversationId: 'c2',
      senderId: 'a',
      deviceId: 'a1',
      ack: { seq: 1, messageId: z.messageId },
    });
    w.connections[0].events.push(
      { kind: 'send', clientMsgId: 'z' },
      { kind: 'ack', clientMsgId: 'z', conversationId: 'c2', seq: 1, messageId: z.messageId },
    );
    expect(check(w).outOfOrder).toBe(0);
  });

  it('counts unacked sends the server stored, and is fine with them', () => {
    const w = world();
    w.sends[1].ack = undefined;
    w.connections[0].events = w.connections[0].events.filter(
      (e) => !(e.kind === 'ack' && e.clientMsgId === 'y'),
    );
    w.sends.push({ clientMsgId: 'q', conversationId: 'c1', senderId: 'a', deviceId: 'a1' });
    const r = check(w);
    expect(r).toMatchObject({ acked: 1, unackedStored: 1, unackedNotStored: 1, lost: 0, duplicated: 0 });
  });

  it('counts missing deliveries for convergence polling, and each pair only until it is held', () => {
    const held = [new Set([1, 2]), new Set([1])];
    let asked = 0;
    const devices = held.map((seqs) => ({
      holds: (_c: string, s: number) => {
        asked++;
        return seqs.has(s);
      },
    }));
    const watch = new DeliveryWatch(() => devices);
    const acks = [
      { conversationId: 'c', seq: 1 },
      { conversationId: 'c', seq: 2 },
    ];
    expect(watch.missing(acks)).toBe(1);
    asked = 0;
    expect(watch.missing(acks)).toBe(1);
    expect(asked).toBe(1); // only the missing pair was asked again
    held[1].add(2);
    expect(watch.missing([...acks, { conversationId: 'c', seq: 3 }])).toBe(2);
  });
});

describe('chaos fault schedule', () => {
  const spec = {
    perKind: Object.fromEntries(FAULT_KINDS.map((k) => [k, 3])) as Record<FaultKind, number>,
    windowMs: 60_000,
    instancesPerService: 2,
  };

  it('is a pure function of the seed (replayable)', () => {
    expect(buildSchedule(42, spec)).toEqual(buildSchedule(42, spec));
    expect(buildSchedule(42, spec)).not.toEqual(buildSchedule(43, spec));
  });

  it('has the asked number of faults of every kind, inside the window, in time order', () => {
    const s = buildSchedule(7, spec);
    for (const kind of FAULT_KINDS) expect(s.filter((e) => e.kind === kind)).toHaveLength(3);
    expect(s.every((e) => e.at >= 0 && e.at < spec.windowMs)).toBe(true);
    expect(s.map((e) => e.at)).toEqual([...s.map((e) => e.at)].sort((a, b) => a - b));
    expect(new Set(s.filter((e) => e.kind === 'rolling').map((e) => e.service)).size).toBe(3);
  });

  it('holds a kind to its stretch of the window and leaves the other kinds where they were', () => {
    const within = { 'redis-restart': [0.1, 0.52] as const };
    const s = buildSchedule(7, { ...spec, within });
    const restarts = s.filter((e) => e.kind === 'redis-restart');
    expect(restarts).toHaveLength(3);
    expect(restarts.every((e) => e.at >= 6_000 && e.at < 31_200)).toBe(true);
    const others = (list: typeof s) =>
      list.filter((e) => e.kind !== 'redis-restart').map(({ id: _id, ...rest }) => rest);
    expect(others(s)).toEqual(others(buildSchedule(7, spec)));
  });

  it('prng is deterministic and in [0, 1)', () => {
    const a = prng(5);
    const b = prng(5);
    const values = Array.from({ length: 100 }, () => a());
    expect(values).toEqual(Array.from({ length: 100 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});
