import type { ServerFrame } from '@im/protocol';
import type { GatewayEnvelope } from '@im/realtime';
import { traceparentOf } from '@im/tracing';
import type { DeviceTarget } from './device-router';

type ToDevices = Extract<GatewayEnvelope, { kind: 'to_devices' }>;

/**
 * Turns frames for devices into envelopes that carry each frame once with the devices it goes
 * to (a group message to 10,000 devices is serialized once here and once at the gateway, not
 * 10,000 times), per gateway. Every device gets its frames in the order of `items`: a frame
 * joins an open envelope only if that device has nothing in a later one.
 */
export function envelopesFor(
  items: readonly { target: DeviceTarget; frame: ServerFrame }[],
): { gatewayId: string; envelope: ToDevices }[] {
  const out: { gatewayId: string; envelope: ToDevices }[] = [];
  const open = new Map<ServerFrame, Map<string, number>>();
  const lastOf = new Map<string, number>();
  for (const { target, frame } of items) {
    const { gatewayId } = target.presence;
    const device = `${gatewayId}|${target.userId}|${target.deviceId}`;
    const byGateway = open.get(frame) ?? new Map<string, number>();
    open.set(frame, byGateway);
    let index = byGateway.get(gatewayId);
    if (index === undefined || index < (lastOf.get(device) ?? -1)) {
      const traceparent = traceparentOf(frame);
      const envelope: ToDevices = {
        kind: 'to_devices',
        frame,
        devices: [],
        ...(traceparent && { traceparent }),
      };
      index = out.push({ gatewayId, envelope }) - 1;
      byGateway.set(gatewayId, index);
    }
    out[index].envelope.devices.push([target.userId, target.deviceId]);
    lastOf.set(device, index);
  }
  return out;
}
