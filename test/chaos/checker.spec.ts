import { check, DeliveryWatch, type CheckInput, type MessageRef } from './checker';
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

  it('leaves a send this connection refused out of the order check', () => {
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
    expect(r.outOfOrder).toBe(0);
    expect(r.orderSkippedRefused).toBe(1);
  });

  it('judges a resend on a later connection by the connection that first carried it (found in a full run)', () => {
    // y was refused on c1, x overtook it there; a later connection resends both, oldest first,
    // and gets their acks again: nothing was sequenced on c2, so nothing is out of order there.
    const w = world();
    w.connections[0].events = [
      { kind: 'send', clientMsgId: 'y', at: 1 },
      { kind: 'error', clientMsgId: 'y', code: 'unavailable', at: 2 },
      { kind: 'send', clientMsgId: 'x', at: 3 },
      { kind: 'send', clientMsgId: 'y', at: 4 },
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
    expect(check(w).outOfOrder).toBe(0);
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

  it('prng is deterministic and in [0, 1)', () => {
    const a = prng(5);
    const b = prng(5);
    const values = Array.from({ length: 100 }, () => a());
    expect(values).toEqual(Array.from({ length: 100 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});
