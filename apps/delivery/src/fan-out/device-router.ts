import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ServerFrame } from '@im/protocol';
import { DevicePresence, GatewayBus, GatewayEnvelope, PresenceStore, REDIS } from '@im/realtime';

export interface DeviceTarget {
  userId: string;
  deviceId: string;
  presence: DevicePresence;
}

/** Finds users' online devices and sends frames to the gateway instances that hold them. */
@Injectable()
export class DeviceRouter {
  readonly presence: PresenceStore;
  private readonly bus: GatewayBus;

  constructor(@Inject(REDIS) redis: Redis) {
    this.presence = new PresenceStore(redis);
    this.bus = new GatewayBus(redis);
  }

  async onlineDevices(userIds: string[]): Promise<DeviceTarget[]> {
    const byUser = await this.presence.devicesOf([...new Set(userIds)]);
    const targets: DeviceTarget[] = [];
    for (const [userId, devices] of byUser) {
      for (const [deviceId, presence] of devices) targets.push({ userId, deviceId, presence });
    }
    return targets;
  }

  /** Sends frames, grouped so that each device gets its frames in order in one envelope. */
  async send(
    items: { target: DeviceTarget; frame: ServerFrame }[],
    direct: { gatewayId: string; envelope: GatewayEnvelope }[] = [],
  ) {
    const grouped = new Map<
      string,
      { gatewayId: string; envelope: Extract<GatewayEnvelope, { kind: 'to_device' }> }
    >();
    for (const { target, frame } of items) {
      const key = `${target.presence.gatewayId}|${target.userId}|${target.deviceId}`;
      let entry = grouped.get(key);
      if (!entry) {
        entry = {
          gatewayId: target.presence.gatewayId,
          envelope: { kind: 'to_device', userId: target.userId, deviceId: target.deviceId, frames: [] },
        };
        grouped.set(key, entry);
      }
      entry.envelope.frames.push(frame);
    }
    await this.bus.publishMany([...direct, ...grouped.values()]);
  }
}
