/**
 * The independent loss / duplicate / order checker of the chaos suite.
 *
 * Pure logic over what the clients saw and what PostgreSQL holds; it never asks the
 * services for their own counters. Inputs:
 *   - every connection's wire log (sends, acks and errors in the order they crossed it),
 *   - every device's received log (the SDK's `message` events, in order) and final timeline,
 *   - every send the harness made (with the SDK's ack, if any),
 *   - the `messages` rows of the run's database, and the conversations' members.
 */

export interface MessageRef {
  conversationId: string;
  seq: number;
  messageId: string;
  senderId: string;
  clientMsgId: string;
}

/** `at`: when the harness saw it (ms since epoch), for the evidence of a finding. */
export type WireEvent = { at?: number } & (
  | { kind: 'send'; clientMsgId: string }
  | { kind: 'ack'; clientMsgId: string; conversationId: string; seq: number; messageId: string }
  | { kind: 'error'; clientMsgId: string; code: string }
);

/** One WebSocket connection of one device: what went out and came back, in wire order. */
export interface ConnectionLog {
  connectionId: string;
  userId: string;
  deviceId: string;
  events: WireEvent[];
}

export interface DeviceLog {
  userId: string;
  deviceId: string;
  /** The SDK's `message` events, in the order the app saw them. */
  received: MessageRef[];
  /** The device's final store, per conversation, in the order the SDK lists it. */
  timeline: Record<string, MessageRef[]>;
}

export interface SendRecord {
  clientMsgId: string;
  conversationId: string;
  senderId: string;
  deviceId: string;
  /** The ack the SDK reported for it, if any. */
  ack?: { seq: number; messageId: string };
  /** When the app queued it and when the SDK reported its ack (ms since the epoch). */
  queuedAt?: number;
  ackedAt?: number;
}

export interface CheckInput {
  /** conversationId → member user ids (fixed for the run). */
  members: Record<string, string[]>;
  devices: DeviceLog[];
  connections: ConnectionLog[];
  sends: SendRecord[];
  db: MessageRef[];
}

export interface Finding {
  kind: string;
  detail: string;
}

export interface CheckReport {
  sent: number;
  acked: number;
  stored: number;
  /** Sends without any ack that the server stored anyway (fine, but counted). */
  unackedStored: number;
  /** Sends without any ack and not stored (e.g. still in an outbox when the run ended). */
  unackedNotStored: number;
  /** Acked but missing from the database or from a member device after convergence. */
  lost: number;
  /** One clientMsgId with two messages, one seq with two messageIds, or an app-level double delivery. */
  duplicated: number;
  /** A device view not strictly increasing by seq, or one connection's first-send order broken by the seqs. */
  outOfOrder: number;
  /** Acked sends judged for order, each among the first sends of the connection that first carried it. */
  orderChecked: number;
  /** Of those, sends that got an `error` on some connection (refused, then acked after a resend). */
  orderCheckedResent: number;
  /** Acked sends left out of the order check because a refusal of theirs was final (`FINAL_CODES`). */
  orderSkippedFinal: number;
  /** Deliveries checked: acked messages × member devices. */
  deliveriesChecked: number;
  findings: Finding[];
}

const MAX_FINDINGS = 200;

/** Refusals that "will not change on retry": G3 holds no later send back behind them. */
export const FINAL_CODES: ReadonlySet<string> = new Set([
  'bad_request',
  'forbidden',
  'not_found',
  'too_large',
  'rejected',
]);

const key = (conversationId: string, seq: number) => `${conversationId}#${seq}`;
const sendKey = (conversationId: string, senderId: string, clientMsgId: string) =>
  `${conversationId}#${senderId}#${clientMsgId}`;

/** The acknowledged messages: every ack seen for a send must agree; returns clientMsgId-keyed acks. */
export function check(input: CheckInput): CheckReport {
  const findings: Finding[] = [];
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  const find = (kind: string, detail: string) => {
    if (findings.length < MAX_FINDINGS) findings.push({ kind, detail });
  };

  const sendsById = new Map<string, SendRecord>();
  for (const s of input.sends) sendsById.set(s.clientMsgId, s);

  // --- acks: every ack of one clientMsgId (any connection, the SDK's event) must be identical.
  const acks = new Map<string, { seq: number; messageId: string; conversationId: string }>();
  const noteAck = (
    clientMsgId: string,
    conversationId: string,
    seq: number,
    messageId: string,
    where: string,
  ) => {
    const previous = acks.get(clientMsgId);
    if (!previous) {
      acks.set(clientMsgId, { seq, messageId, conversationId });
      return;
    }
    if (previous.seq !== seq || previous.messageId !== messageId) {
      duplicated++;
      find(
        'duplicated',
        `clientMsgId ${clientMsgId} acked as seq ${previous.seq}/${previous.messageId} and as seq ${seq}/${messageId} (${where})`,
      );
    }
  };
  for (const s of input.sends)
    if (s.ack) noteAck(s.clientMsgId, s.conversationId, s.ack.seq, s.ack.messageId, 'sdk');
  for (const c of input.connections)
    for (const e of c.events)
      if (e.kind === 'ack') noteAck(e.clientMsgId, e.conversationId, e.seq, e.messageId, c.connectionId);

  // --- the database: one row per (conversation, sender, clientMsgId) and per (conversation, seq).
  const dbBySeq = new Map<string, MessageRef>();
  const dbBySend = new Map<string, MessageRef>();
  const dbByMessageId = new Map<string, MessageRef>();
  for (const row of input.db) {
    const k = key(row.conversationId, row.seq);
    const other = dbBySeq.get(k);
    if (other && other.messageId !== row.messageId) {
      duplicated++;
      find('duplicated', `seq ${k} stored twice: ${other.messageId} and ${row.messageId}`);
    }
    dbBySeq.set(k, row);
    const sk = sendKey(row.conversationId, row.senderId, row.clientMsgId);
    const twin = dbBySend.get(sk);
    if (twin) {
      duplicated++;
      find('duplicated', `clientMsgId ${row.clientMsgId} stored twice: seq ${twin.seq} and seq ${row.seq}`);
    }
    dbBySend.set(sk, row);
    dbByMessageId.set(row.messageId, row);
  }

  // --- acked messages must be stored, as acked.
  for (const [clientMsgId, ack] of acks) {
    const s = sendsById.get(clientMsgId);
    const row = dbBySeq.get(key(ack.conversationId, ack.seq));
    if (!row) {
      lost++;
      find('lost', `acked ${clientMsgId} (seq ${ack.conversationId}#${ack.seq}) is not in the database`);
      continue;
    }
    if (
      row.messageId !== ack.messageId ||
      row.clientMsgId !== clientMsgId ||
      (s && row.senderId !== s.senderId)
    ) {
      duplicated++;
      find(
        'duplicated',
        `acked ${clientMsgId} as ${ack.messageId} at seq ${ack.conversationId}#${ack.seq}, but the database holds ${row.messageId} (${row.clientMsgId}) there`,
      );
    }
  }

  // --- unacked sends that were stored anyway.
  let unackedStored = 0;
  let unackedNotStored = 0;
  for (const s of input.sends) {
    if (acks.has(s.clientMsgId)) continue;
    if (dbBySend.has(sendKey(s.conversationId, s.senderId, s.clientMsgId))) unackedStored++;
    else unackedNotStored++;
  }

  // --- devices: views strictly increasing, identical to the database, no double delivery, nothing missing.
  const devicesByUser = new Map<string, DeviceLog[]>();
  for (const d of input.devices) {
    const list = devicesByUser.get(d.userId) ?? [];
    list.push(d);
    devicesByUser.set(d.userId, list);
  }
  const held = new Map<DeviceLog, Set<string>>();
  const ackedSeqs = new Set([...acks.values()].map((a) => key(a.conversationId, a.seq)));
  for (const d of input.devices) {
    const set = new Set<string>();
    for (const [conversationId, list] of Object.entries(d.timeline)) {
      for (let i = 0; i < list.length; i++) {
        const m = list[i];
        if (i > 0 && m.seq <= list[i - 1].seq) {
          outOfOrder++;
          find(
            'out_of_order',
            `device ${d.deviceId}: ${conversationId} lists seq ${m.seq} after seq ${list[i - 1].seq}`,
          );
        }
        const row = dbBySeq.get(key(conversationId, m.seq));
        if (row && row.messageId !== m.messageId) {
          duplicated++;
          find(
            'duplicated',
            `device ${d.deviceId} holds ${m.messageId} at ${conversationId}#${m.seq}; the database holds ${row.messageId}`,
          );
        }
        if (!row && !ackedSeqs.has(key(conversationId, m.seq))) {
          // A message the device holds that exists nowhere else: a phantom is a duplicate of something.
          duplicated++;
          find(
            'duplicated',
            `device ${d.deviceId} holds ${conversationId}#${m.seq} (${m.messageId}) that is not stored`,
          );
        }
        set.add(key(conversationId, m.seq));
      }
    }
    held.set(d, set);
    const seen = new Map<string, string>();
    for (const m of d.received) {
      const k = key(m.conversationId, m.seq);
      const previous = seen.get(k);
      if (previous !== undefined) {
        duplicated++;
        find(
          'duplicated',
          `device ${d.deviceId} was given ${k} twice (${previous}${previous === m.messageId ? '' : ` then ${m.messageId}`})`,
        );
      }
      seen.set(k, m.messageId);
    }
  }
  let deliveriesChecked = 0;
  for (const [clientMsgId, ack] of acks) {
    for (const userId of input.members[ack.conversationId] ?? []) {
      for (const d of devicesByUser.get(userId) ?? []) {
        deliveriesChecked++;
        if (!held.get(d)?.has(key(ack.conversationId, ack.seq))) {
          lost++;
          find(
            'lost',
            `device ${d.deviceId} of ${userId} lacks acked ${clientMsgId} (${ack.conversationId}#${ack.seq})`,
          );
        }
      }
    }
  }

  // --- per-connection order (G3): a connection's sends, in the order the client first sent them
  // there, have increasing seqs within a conversation, whatever errors and resends followed.
  // A refusal that may pass (`unavailable`, `rate_limited`) refuses every later send of the
  // connection to that conversation, so a client resending oldest first gets the original order;
  // a send refused and resent is judged like any other (leaving it out hid issue 12: A refused,
  // B queued behind it accepted, A's resend sequenced after B). `internal` gets no exemption: an
  // outage is always `unavailable`, so it is a bug itself. A send is judged among the first sends
  // of the connection it first went out on, with its ack from whichever connection got one: its
  // resend on a later connection is not a new send there (the SDK resends its outbox after every
  // reconnect), and a connection's order says nothing about another's.
  let orderChecked = 0;
  let orderCheckedResent = 0;
  let orderSkippedFinal = 0;
  // The connection of each send's first frame: earliest `at`; without times, the first in the list.
  const owner = new Map<string, { index: number; at: number }>();
  input.connections.forEach((c, index) => {
    for (const e of c.events) {
      if (e.kind !== 'send') continue;
      const at = e.at ?? Infinity;
      const o = owner.get(e.clientMsgId);
      if (!o || at < o.at) owner.set(e.clientMsgId, { index, at });
    }
  });
  const refusals = new Map<string, Set<string>>();
  for (const c of input.connections)
    for (const e of c.events)
      if (e.kind === 'error')
        refusals.set(e.clientMsgId, (refusals.get(e.clientMsgId) ?? new Set()).add(e.code));
  input.connections.forEach((c, index) => {
    const firstSent: string[] = [];
    const listed = new Set<string>();
    for (const e of c.events)
      if (e.kind === 'send' && owner.get(e.clientMsgId)?.index === index && !listed.has(e.clientMsgId)) {
        listed.add(e.clientMsgId);
        firstSent.push(e.clientMsgId);
      }
    const highest = new Map<string, { seq: number; clientMsgId: string }>();
    for (const id of firstSent) {
      const ack = acks.get(id);
      if (!ack) continue; // never accepted: absent, not out of order
      const codes = refusals.get(id);
      if (codes && [...codes].some((code) => FINAL_CODES.has(code))) {
        // A final refusal holds nothing back (G3), so a copy accepted anyway (an early resend
        // of the same frame) may rightly come after later sends.
        orderSkippedFinal++;
        continue;
      }
      orderChecked++;
      if (codes) orderCheckedResent++;
      const previous = highest.get(ack.conversationId);
      if (previous && ack.seq <= previous.seq) {
        outOfOrder++;
        find(
          'out_of_order',
          `connection ${c.connectionId}: ${id} first sent after ${previous.clientMsgId} got seq ${ack.seq} ≤ ${previous.seq} in ${ack.conversationId}` +
            `; wire: ${evidence(input.connections, [previous.clientMsgId, id])}`,
        );
      }
      // Every earlier acked send counts, so the bar is the highest seq so far.
      if (!previous || ack.seq > previous.seq)
        highest.set(ack.conversationId, { seq: ack.seq, clientMsgId: id });
    }
  });

  return {
    sent: input.sends.length,
    acked: acks.size,
    stored: input.db.length,
    unackedStored,
    unackedNotStored,
    lost,
    duplicated,
    outOfOrder,
    orderChecked,
    orderCheckedResent,
    orderSkippedFinal,
    deliveriesChecked,
    findings,
  };
}

interface Holder {
  holds(conversationId: string, seq: number): boolean;
}

/**
 * For convergence polling while the run goes on: the (acked message, member device) pairs
 * still missing. A device never forgets what it holds, so each pair is checked until it is
 * held and then dropped: a poll costs the new acks and what is still missing, not the whole
 * run (a full run has over 500,000 pairs, and re-counting them every 250 ms starved the
 * devices sharing the harness's event loop).
 */
export class DeliveryWatch<D extends Holder> {
  private readonly seen = new Set<string>();
  private waiting: { conversationId: string; seq: number; device: D }[] = [];

  constructor(private readonly membersDevices: (conversationId: string) => Iterable<D>) {}

  /** Adds acked messages (repeats are ignored) and returns how many pairs are still missing. */
  missing(acked: Iterable<{ conversationId: string; seq: number }>): number {
    for (const a of acked) {
      const key = `${a.conversationId}#${a.seq}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      for (const device of this.membersDevices(a.conversationId))
        this.waiting.push({ conversationId: a.conversationId, seq: a.seq, device });
    }
    this.waiting = this.waiting.filter((w) => !w.device.holds(w.conversationId, w.seq));
    return this.waiting.length;
  }
}

/** Every wire event of these sends on any connection, in time order: what a reader needs to judge a finding. */
export function evidence(connections: ConnectionLog[], clientMsgIds: string[]): string {
  const short = (id: string) => id.slice(0, 8);
  const lines: { at: number; text: string }[] = [];
  for (const c of connections)
    for (const e of c.events)
      if (clientMsgIds.includes(e.clientMsgId))
        lines.push({
          at: e.at ?? 0,
          text: `${e.at ?? '?'} ${c.connectionId} ${e.kind}${e.kind === 'ack' ? ` ${e.seq}` : e.kind === 'error' ? ` ${e.code}` : ''} ${short(e.clientMsgId)}`,
        });
  return lines
    .sort((a, b) => a.at - b.at)
    .map((l) => l.text)
    .join(' | ');
}
