import type { GatewayEnvelope } from '@im/realtime';
import type { AckWaiters } from './ack-waiters';
import type { LocalConnections } from './local-connections';

/** Carries out what another service asked of this gateway through its bus channel. */
export function deliverEnvelope(
  e: GatewayEnvelope,
  connections: LocalConnections,
  waiters: AckWaiters,
): void {
  switch (e.kind) {
    case 'to_conn':
      if (!waiters.answer(e.connId, e.frame)) connections.byConnectionId(e.connId)?.send(e.frame);
      return;
    case 'to_devices': {
      // Serialized once for every socket it goes to.
      const text = Buffer.from(JSON.stringify(e.frame));
      for (const [userId, deviceId] of e.devices) connections.byDevice(userId, deviceId)?.sendText(text);
      return;
    }
    case 'to_device': {
      const conn = connections.byDevice(e.userId, e.deviceId);
      if (conn) for (const frame of e.frames) conn.send(frame);
      return;
    }
    case 'close':
      for (const c of connections.connectionsOf(e.userId)) {
        if (e.deviceId !== undefined && c.deviceId !== e.deviceId) continue;
        if (e.tokenId !== undefined && c.tokenId !== e.tokenId) continue;
        if (c.connId === e.exceptConnId) continue;
        c.close(e.code, e.reason);
      }
      return;
  }
}
