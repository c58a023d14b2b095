import { Injectable } from '@nestjs/common';
import { metrics } from '@im/metrics';
import { ClientConnection, deviceKey } from './client-connection';

const connectionsGauge = metrics.gauge('im_gateway_connections', 'Open WebSocket connections');

/** The live connections of this gateway instance, by connection id and by device. */
@Injectable()
export class LocalConnections {
  private readonly byConnId = new Map<string, ClientConnection>();
  private readonly byDeviceKey = new Map<string, ClientConnection>();

  /** Holds `conn`; returns the connection of the same device it replaces here, if any. */
  add(conn: ClientConnection): ClientConnection | undefined {
    const replaced = this.byDeviceKey.get(conn.key);
    this.byConnId.set(conn.connId, conn);
    this.byDeviceKey.set(conn.key, conn);
    connectionsGauge.set({}, this.byConnId.size);
    return replaced;
  }

  /** Forgets `conn`; false when it was not held (already removed, or replaced by id). */
  remove(conn: ClientConnection): boolean {
    if (this.byConnId.get(conn.connId) !== conn) return false;
    this.byConnId.delete(conn.connId);
    if (this.byDeviceKey.get(conn.key) === conn) this.byDeviceKey.delete(conn.key);
    connectionsGauge.set({}, this.byConnId.size);
    return true;
  }

  byConnectionId(connId: string): ClientConnection | undefined {
    return this.byConnId.get(connId);
  }

  byDevice(userId: string, deviceId: string): ClientConnection | undefined {
    return this.byDeviceKey.get(deviceKey(userId, deviceId));
  }

  connectionsOf(userId: string): ClientConnection[] {
    return this.all().filter((c) => c.userId === userId);
  }

  all(): ClientConnection[] {
    return [...this.byConnId.values()];
  }
}
