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
  /** A device view not strictly increasing by seq, or one connection's acked order broken. */
  outOfOrder: number;
  /** Messages checked for per-connection order (acked on the connection they were first sent on). */
  orderChecked: number;
  /** Per-connection sends left out of the order check because this connection got an error for them. */
  orderSkippedRefused: number;
  /** Deliveries checked: acked messages × member devices. */
  deliveriesChecked: number;
  findings: Finding[];
}

const MAX_FINDINGS = 200;

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

  // --- per-connection order: messages first sent (ever) on a connection and acked on it, in send order,
  // have increasing seq. A send this connection got an `error` for was refused here, not accepted,
  // so it is left out (its resend may legitimately come after later sends).
  // A send resent on a later connection after it was accepted on an earlier one is not sequenced
  // there: it is judged on the connection that carried its first send.
  let orderChecked = 0;
  let orderSkippedRefused = 0;
  const firstSendAt = new Map<string, number>();
  for (const c of input.connections)
    for (const e of c.events)
      if (e.kind === 'send' && e.at !== undefined)
        firstSendAt.set(e.clientMsgId, Math.min(e.at, firstSendAt.get(e.clientMsgId) ?? Infinity));
  for (const c of input.connections) {
    const firstSent: string[] = [];
    const sentHere = new Set<string>();
    const ackedHere = new Map<string, { conversationId: string; seq: number }>();
    const refused = new Set<string>();
    for (const e of c.events) {
      if (e.kind === 'send') {
        const sentBefore = e.at !== undefined && (firstSendAt.get(e.clientMsgId) ?? e.at) < e.at;
        if (!sentHere.has(e.clientMsgId) && !sentBefore) firstSent.push(e.clientMsgId);
        sentHere.add(e.clientMsgId);
      } else if (e.kind === 'ack')
        ackedHere.set(e.clientMsgId, { conversationId: e.conversationId, seq: e.seq });
      else refused.add(e.clientMsgId);
    }
    const lastSeq = new Map<string, { seq: number; clientMsgId: string }>();
    for (const id of firstSent) {
      const ack = ackedHere.get(id);
      if (!ack) continue;
      if (refused.has(id)) {
        orderSkippedRefused++;
        continue;
      }
      orderChecked++;
      const previous = lastSeq.get(ack.conversationId);
      if (previous && ack.seq <= previous.seq) {
        outOfOrder++;
        find(
          'out_of_order',
          `connection ${c.connectionId}: ${id} sent after ${previous.clientMsgId} got seq ${ack.seq} ≤ ${previous.seq} in ${ack.conversationId}` +
            `; wire: ${evidence(input.connections, [previous.clientMsgId, id])}`,
        );
      }
      if (!previous || ack.seq > previous.seq)
        lastSeq.set(ack.conversationId, { seq: ack.seq, clientMsgId: id });
    }
  }

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
    orderSkippedRefused,
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
