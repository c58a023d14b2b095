import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig, redisKeyPrefix } from '@im/config';
import { metrics } from '@im/metrics';
import { CloseCode, ServerFrame } from '@im/protocol';
import { createRedis, GatewayBus, GatewayEnvelope, PresenceStore } from '@im/realtime';
import { ClientConnection, deviceKey } from './client-connection';

const connectionsGauge = metrics.gauge('im_gateway_connections', 'Open WebSocket connections');
// After Redis lost its data, pushes find this gateway's devices again within this period.
const PRESENCE_REFRESH_MS = 5_000;

/**
 * The connections of this gateway instance: registered in Redis presence so that other
 * services can reach them, replaced (4409) when the same device connects again anywhere,
 * closed when silent for 2 × heartbeat (4408), and fed by this instance's bus channel.
 */
@Injectable()
export class ConnectionRegistry implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('connections');
  private readonly byConnId = new Map<string, ClientConnection>();
  private readonly byDevice = new Map<string, ClientConnection>();
  /** Waiters for acks of admin calls, keyed by their `rest:` connId. */
  private readonly restWaiters = new Map<string, (frame: ServerFrame) => void>();
  private subscriber?: Redis;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly presence: PresenceStore,
    readonly bus: GatewayBus,
    private readonly config: AppConfig,
  ) {}

  get gatewayId(): string {
    return this.config.INSTANCE_ID;
  }

  async onModuleInit() {
    this.subscriber = createRedis(this.config.REDIS_URL, redisKeyPrefix(this.config));
    await GatewayBus.subscribe(this.subscriber, this.gatewayId, (e) => this.onEnvelope(e));
    this.timers.push(setInterval(() => this.closeSilent(), Math.min(1000, this.config.HEARTBEAT_MS)));
    this.timers.push(setInterval(() => void this.refreshPresence(), PRESENCE_REFRESH_MS));
  }

  /** Clients reconnect (to another instance) when told 1001. */
  beforeApplicationShutdown() {
    for (const t of this.timers) clearInterval(t);
    for (const c of [...this.byConnId.values()]) c.close(CloseCode.goingAway, 'server going away');
  }

  onApplicationShutdown() {
    this.subscriber?.disconnect();
  }

  async add(conn: ClientConnection): Promise<void> {
    const local = this.byDevice.get(conn.key);
    if (local) local.close(CloseCode.replaced, 'replaced by a newer connection');
    this.byConnId.set(conn.connId, conn);
    this.byDevice.set(conn.key, conn);
    connectionsGauge.set({}, this.byConnId.size);
    const previous = await this.presence.register(conn.userId, conn.deviceId, {
      gatewayId: this.gatewayId,
      connId: conn.connId,
      connectedAt: conn.connectedAt,
    });
    if (previous && previous.gatewayId !== this.gatewayId) {
      await this.bus.publish(previous.gatewayId, {
        kind: 'close',
        userId: conn.userId,
        deviceId: conn.deviceId,
        exceptConnId: conn.connId,
        code: CloseCode.replaced,
        reason: 'replaced by a newer connection',
      });
    }
  }

  remove(conn: ClientConnection): void {
    if (this.byConnId.get(conn.connId) !== conn) return;
    this.byConnId.delete(conn.connId);
    if (this.byDevice.get(conn.key) === conn) this.byDevice.delete(conn.key);
    connectionsGauge.set({}, this.byConnId.size);
    this.presence.unregister(conn.userId, conn.deviceId, conn.connId).catch((e) => {
      this.logger.warn(`presence of ${conn.key} not removed (it expires): ${String(e)}`);
    });
  }

  /** True when the user already holds the maximum of connections on other devices. */
  async atConnectionLimit(userId: string, deviceId: string): Promise<boolean> {
    const devices = (await this.presence.devicesOf([userId])).get(userId) ?? new Map();
    devices.delete(deviceId); // a reconnect of the same device replaces its connection
    return devices.size >= this.config.MAX_CONNECTIONS_PER_USER;
  }

  byConnectionId(connId: string): ClientConnection | undefined {
    return this.byConnId.get(connId);
  }

  connectionsOf(userId: string): ClientConnection[] {
    return [...this.byConnId.values()].filter((c) => c.userId === userId);
  }

  /** An admin call waits here for the ack of the message it produced. */
  waitForAck(restId: string, timeoutMs: number): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.restWaiters.delete(restId);
        reject(new Error('timed out waiting for the message to become durable'));
      }, timeoutMs);
      this.restWaiters.set(restId, (frame) => {
        clearTimeout(timer);
        this.restWaiters.delete(restId);
        resolve(frame);
      });
    });
  }

  private onEnvelope(e: GatewayEnvelope): void {
    switch (e.kind) {
      case 'to_conn': {
        const waiter = this.restWaiters.get(e.connId);
        if (waiter) waiter(e.frame);
        else this.byConnId.get(e.connId)?.send(e.frame);
        return;
      }
      case 'to_devices': {
        // Serialized once for every socket it goes to.
        const text = Buffer.from(JSON.stringify(e.frame));
        for (const [userId, deviceId] of e.devices)
          this.byDevice.get(deviceKey(userId, deviceId))?.sendText(text);
        return;
      }
      case 'to_device': {
        const conn = this.byDevice.get(deviceKey(e.userId, e.deviceId));
        if (conn) for (const frame of e.frames) conn.send(frame);
        return;
      }
      case 'close': {
        for (const c of this.connectionsOf(e.userId)) {
          if (e.deviceId !== undefined && c.deviceId !== e.deviceId) continue;
          if (e.tokenId !== undefined && c.tokenId !== e.tokenId) continue;
          if (c.connId === e.exceptConnId) continue;
          c.close(e.code, e.reason);
        }
        return;
      }
    }
  }

  private closeSilent(): void {
    const now = Date.now();
    for (const c of this.byConnId.values()) {
      if (now - c.lastSeenAt > 2 * this.config.HEARTBEAT_MS)
        c.close(CloseCode.heartbeatTimeout, 'heartbeat timeout');
      else if (c.tokenExpiresAt * 1000 <= now) c.close(CloseCode.unauthorized, 'token expired');
    }
  }

  private async refreshPresence(): Promise<void> {
    const entries = [...this.byConnId.values()].map((c) => ({
      userId: c.userId,
      deviceId: c.deviceId,
      presence: { gatewayId: this.gatewayId, connId: c.connId, connectedAt: c.connectedAt },
    }));
    await this.presence
      .refresh(entries)
      .catch((e) => this.logger.warn(`presence refresh failed: ${String(e)}`));
  }
}
