import type { RedisClient } from './redis-client';
import type { ServerFrame } from '@im/protocol';
import { execAll } from './redis-pipeline';
import { batchOf } from './slot-groups';

/** What other services ask a gateway instance to do for one of its connections. */
export type GatewayEnvelope =
  /** To one connection by id: acks and errors of a send (or an admin call waiting on `rest:` ids). */
  | { kind: 'to_conn'; connId: string; frame: ServerFrame; traceparent?: string }
  /**
   * One frame to whichever connection each device has now: pushes, receipts, typing. The frame
   * is in the envelope once, however many devices it goes to.
   */
  | {
      kind: 'to_devices';
      frame: ServerFrame;
      devices: [userId: string, deviceId: string][];
      /** W3C trace context of the message's fan-out, when it is traced. */
      traceparent?: string;
    }
  /** Several frames to one device; sent by services before `to_devices`, still honoured during an upgrade. */
  | { kind: 'to_device'; userId: string; deviceId: string; frames: ServerFrame[] }
  /** Close connections of a user (one device, or all) with a close code. */
  | {
      kind: 'close';
      userId: string;
      deviceId?: string;
      /** Only connections opened with this token (jti). */
      tokenId?: string;
      exceptConnId?: string;
      code: number;
      reason: string;
    };

/** ioredis prefixes keys, not channels: the bus adds the client's key prefix itself. */
export const gatewayChannel = (redis: RedisClient, gatewayId: string) =>
  `${redis.options.keyPrefix ?? ''}gw:${gatewayId}`;

/** Redis pub/sub from delivery and the admin API to a gateway instance. */
export class GatewayBus {
  constructor(private readonly redis: RedisClient) {}

  async publish(gatewayId: string, envelope: GatewayEnvelope): Promise<void> {
    await this.redis.publish(gatewayChannel(this.redis, gatewayId), JSON.stringify(envelope));
  }

  /**
   * Publishes many envelopes in one round trip, as one message per gateway instance (a JSON
   * array, in the given order): per-message PUBLISH commands were the largest CPU cost of
   * delivery and of the gateways' subscribers under load.
   */
  async publishMany(items: { gatewayId: string; envelope: GatewayEnvelope }[]): Promise<void> {
    if (items.length === 0) return;
    const byGateway = new Map<string, GatewayEnvelope[]>();
    for (const i of items) {
      const list = byGateway.get(i.gatewayId) ?? [];
      list.push(i.envelope);
      byGateway.set(i.gatewayId, list);
    }
    const pipeline = batchOf(this.redis);
    for (const [gatewayId, envelopes] of byGateway)
      pipeline.publish(
        gatewayChannel(this.redis, gatewayId),
        JSON.stringify(envelopes.length === 1 ? envelopes[0] : envelopes),
      );
    await execAll(pipeline);
  }

  /** Listens on this gateway's channel with a dedicated connection; resubscribes after reconnects. */
  static async subscribe(
    subscriber: RedisClient,
    gatewayId: string,
    onEnvelope: (e: GatewayEnvelope) => void,
  ): Promise<void> {
    // One envelope, or several in order (publishMany).
    subscriber.on('message', (_channel: string, message: string) => {
      const parsed = JSON.parse(message) as GatewayEnvelope | GatewayEnvelope[];
      for (const envelope of Array.isArray(parsed) ? parsed : [parsed]) onEnvelope(envelope);
    });
    await subscriber.subscribe(gatewayChannel(subscriber, gatewayId));
  }
}
