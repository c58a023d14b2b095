import type { Redis } from 'ioredis';
import type { ServerFrame } from '@im/protocol';

/** What other services ask a gateway instance to do for one of its connections. */
export type GatewayEnvelope =
  /** To one connection by id: acks and errors of a send (or an admin call waiting on `rest:` ids). */
  | { kind: 'to_conn'; connId: string; frame: ServerFrame }
  /** To whichever connection is the device's now: pushes, receipts, typing. */
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

export const gatewayChannel = (gatewayId: string) => `gw:${gatewayId}`;

/** Redis pub/sub from delivery and the admin API to a gateway instance. */
export class GatewayBus {
  constructor(private readonly redis: Redis) {}

  async publish(gatewayId: string, envelope: GatewayEnvelope): Promise<void> {
    await this.redis.publish(gatewayChannel(gatewayId), JSON.stringify(envelope));
  }

  /** Publishes many envelopes in one round trip. */
  async publishMany(items: { gatewayId: string; envelope: GatewayEnvelope }[]): Promise<void> {
    if (items.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const i of items) pipeline.publish(gatewayChannel(i.gatewayId), JSON.stringify(i.envelope));
    await pipeline.exec();
  }

  /** Listens on this gateway's channel with a dedicated connection; resubscribes after reconnects. */
  static async subscribe(
    subscriber: Redis,
    gatewayId: string,
    onEnvelope: (e: GatewayEnvelope) => void,
  ): Promise<void> {
    subscriber.on('message', (_channel: string, message: string) =>
      onEnvelope(JSON.parse(message) as GatewayEnvelope),
    );
    await subscriber.subscribe(gatewayChannel(gatewayId));
  }
}
