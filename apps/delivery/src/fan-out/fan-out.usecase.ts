import { Injectable } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics, stageLatency } from '@im/metrics';
import { BatchOutcome, BatchProducer, isRejected, PersistedMessage, TopicEvents } from '@im/messaging';
import { messageFrame, ServerFrame } from '@im/protocol';
import { GatewayEnvelope, MembershipService } from '@im/realtime';
import { setTraceparent, traceparentOf } from '@im/tracing';
import { PendingPushes } from '../repush/pending-pushes';
import { coverSeq, PendingPush, repushDelay } from '../repush/repush-schedule';
import { DeviceRouter, DeviceTarget } from './device-router';
import { offlineNotices } from './offline-notices';

const pushes = metrics.counter('im_delivery_pushes_total', 'Messages pushed to online devices');
const acks = metrics.counter('im_delivery_acks_total', 'Acks routed to the sending connection');
/** What a user sees: from the gateway accepting a send to its ack, and to its first push. */
const endToEnd = metrics.histogram(
  'im_message_latency_seconds',
  'From a send accepted at the gateway to its ack (path="send_to_ack") or first push (path="send_to_push")',
);

/**
 * For each message PostgreSQL now holds: the ack to the connection that sent it, and, the
 * first time only, a push to every online device of every member but the sending device.
 * With webhooks on, the members with no online device go to the message.offline queue, and
 * the batch is committed only once that queue holds them.
 */
@Injectable()
export class FanOutUseCase {
  constructor(
    private readonly membership: MembershipService,
    private readonly router: DeviceRouter,
    private readonly pending: PendingPushes,
    private readonly config: AppConfig,
    private readonly producer: BatchProducer,
  ) {}

  async execute(events: TopicEvents['persisted'][]): Promise<BatchOutcome> {
    const direct: { gatewayId: string; envelope: GatewayEnvelope }[] = [];
    const fresh: PersistedMessage[] = [];
    for (const e of events) {
      if (isRejected(e)) {
        if (e.origin) {
          const frame: ServerFrame = { type: 'error', ref: e.clientMsgId, code: e.code, message: e.message };
          direct.push({
            gatewayId: e.origin.gatewayId,
            envelope: { kind: 'to_conn', connId: e.origin.connId, frame },
          });
        }
        continue;
      }
      if (e.origin) {
        const frame: ServerFrame = {
          type: 'ack',
          clientMsgId: e.clientMsgId,
          conversationId: e.conversationId,
          seq: e.seq,
          messageId: e.messageId,
          sentAt: e.sentAt,
        };
        const traceparent = traceparentOf(e);
        direct.push({
          gatewayId: e.origin.gatewayId,
          envelope: { kind: 'to_conn', connId: e.origin.connId, frame, ...(traceparent && { traceparent }) },
        });
        acks.inc();
        stageLatency.observe({ stage: 'acked' }, (Date.now() - e.storedAt) / 1000);
        endToEnd.observe({ path: 'send_to_ack' }, (Date.now() - e.acceptedAt) / 1000);
      }
      // Push unless this is a client's resend of a message already stored. A replay after a
      // crash (not a retry) is pushed again: the first fan-out may never have happened.
      if (e.fresh || !e.retry) fresh.push(e);
    }

    const conversations = [...new Set(fresh.map((m) => m.conversationId))];
    const membersOf = new Map<string, readonly string[]>();
    await Promise.all(conversations.map(async (c) => membersOf.set(c, await this.membership.members(c))));
    const devices = await this.router.onlineDevices([...membersOf.values()].flat());
    const devicesOf = new Map<string, DeviceTarget[]>();
    for (const d of devices) devicesOf.set(d.userId, [...(devicesOf.get(d.userId) ?? []), d]);

    const items: { target: DeviceTarget; frame: ServerFrame }[] = [];
    const latest = new Map<string, PendingPush>();
    for (const m of fresh) {
      const frame = setTraceparent(
        messageFrame({
          conversationId: m.conversationId,
          seq: m.seq,
          messageId: m.messageId,
          senderId: m.senderId,
          clientMsgId: m.clientMsgId,
          contentType: m.contentType,
          body: m.body,
          sentAt: m.sentAt,
          ...(m.replyTo !== undefined && { replyTo: m.replyTo }),
          ...(m.mentions !== undefined && { mentions: m.mentions }),
        }),
        traceparentOf(m),
      );
      for (const userId of membersOf.get(m.conversationId) ?? []) {
        for (const target of devicesOf.get(userId) ?? []) {
          if (userId === m.senderId && target.deviceId === m.origin?.deviceId) continue;
          items.push({ target, frame });
          // One pending entry per device and conversation covers every seq up to the latest.
          const key = `${userId}|${target.deviceId}|${m.conversationId}`;
          latest.set(key, {
            ...coverSeq(latest.get(key), m.seq),
            userId,
            deviceId: target.deviceId,
            connId: target.presence.connId,
            conversationId: m.conversationId,
            attempt: 0,
          });
        }
      }
    }
    await this.router.send(items, direct);
    pushes.inc({}, items.length);
    const now = Date.now();
    for (const m of fresh) {
      stageLatency.observe({ stage: 'pushed' }, (now - m.storedAt) / 1000);
      if (m.fresh) endToEnd.observe({ path: 'send_to_push' }, (now - m.acceptedAt) / 1000);
    }
    const dueAt = Date.now() + repushDelay(0, this.config.REPUSH_INITIAL_MS, this.config.REPUSH_MAX_MS);
    for (const push of latest.values()) this.pending.add(push, dueAt);
    return this.queueOfflineNotices(fresh, membersOf, devicesOf);
  }

  private queueOfflineNotices(
    fresh: readonly PersistedMessage[],
    membersOf: ReadonlyMap<string, readonly string[]>,
    devicesOf: ReadonlyMap<string, DeviceTarget[]>,
  ): BatchOutcome {
    if (this.config.WEBHOOK_URL === undefined) return;
    const notices = offlineNotices(fresh, membersOf, (userId) => devicesOf.has(userId));
    if (notices.length === 0) return;
    // Pipelined like the other hops: the next batch goes on while Kafka takes these.
    const durable = this.producer.publishAll(
      'offline',
      notices.map((n) => ({ key: n.conversationId, event: n })),
    );
    return { durable };
  }
}
