import { Injectable } from '@nestjs/common';
import type { ServerFrame } from '@im/protocol';
import { DevicePresence, GatewayBus, GatewayEnvelope, PresenceStore } from '@im/realtime';
import { envelopesFor } from './frame-envelopes';

export interface DeviceTarget {
  userId: string;
  deviceId: string;
  presence: DevicePresence;
}

/** Finds users' online devices and sends frames to the gateway instances that hold them. */
@Injectable()
export class DeviceRouter {
  constructor(
    readonly presence: PresenceStore,
    private readonly bus: GatewayBus,
  ) {}

  async onlineDevices(userIds: string[]): Promise<DeviceTarget[]> {
    const byUser = await this.presence.devicesOf([...new Set(userIds)]);
    const targets: DeviceTarget[] = [];
    for (const [userId, devices] of byUser) {
      for (const [deviceId, presence] of devices) targets.push({ userId, deviceId, presence });
    }
    return targets;
  }

  /** Sends frames to devices: each frame once per gateway, each device's frames in order. */
  async send(
    items: { target: DeviceTarget; frame: ServerFrame }[],
    direct: { gatewayId: string; envelope: GatewayEnvelope }[] = [],
  ) {
    await this.bus.publishMany([...direct, ...envelopesFor(items)]);
  }
}
