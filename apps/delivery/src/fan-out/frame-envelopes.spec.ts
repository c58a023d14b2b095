import type { ServerFrame } from '@im/protocol';
import type { DeviceTarget } from './device-router';
import { envelopesFor } from './frame-envelopes';

const target = (userId: string, gatewayId = 'gw1', deviceId = 'd'): DeviceTarget => ({
  userId,
  deviceId,
  presence: { gatewayId, connId: `${userId}-conn`, connectedAt: 0 },
});
const frame = (seq: number): ServerFrame => ({ type: 'typing', conversationId: `c${seq}`, userId: 'x' });

/** What each device gets, in order, when the envelopes are delivered in order. */
function perDevice(envelopes: ReturnType<typeof envelopesFor>): Map<string, ServerFrame[]> {
  const got = new Map<string, ServerFrame[]>();
  for (const { gatewayId, envelope } of envelopes)
    for (const [userId, deviceId] of envelope.devices) {
      const key = `${gatewayId}|${userId}|${deviceId}`;
      got.set(key, [...(got.get(key) ?? []), envelope.frame]);
    }
  return got;
}

describe('envelopesFor', () => {
  it('carries a frame once per gateway with every device it goes to', () => {
    const f = frame(1);
    const envelopes = envelopesFor([
      { target: target('a'), frame: f },
      { target: target('b'), frame: f },
      { target: target('c', 'gw2'), frame: f },
    ]);
    expect(envelopes).toEqual([
      {
        gatewayId: 'gw1',
        envelope: {
          kind: 'to_devices',
          frame: f,
          devices: [
            ['a', 'd'],
            ['b', 'd'],
          ],
        },
      },
      { gatewayId: 'gw2', envelope: { kind: 'to_devices', frame: f, devices: [['c', 'd']] } },
    ]);
  });

  it('keeps every device’s order, opening a new envelope where merging would reorder', () => {
    const [f1, f2] = [frame(1), frame(2)];
    const items = [
      { target: target('a'), frame: f1 },
      { target: target('b'), frame: f2 },
      { target: target('b'), frame: f1 }, // b gets f2 before f1
      { target: target('a'), frame: f2 },
    ];
    const got = perDevice(envelopesFor(items));
    expect(got.get('gw1|a|d')).toEqual([f1, f2]);
    expect(got.get('gw1|b|d')).toEqual([f2, f1]);
  });
});
