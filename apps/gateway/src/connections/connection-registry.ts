import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { AppConfig, redisKeyPrefix, redisTarget } from '@im/config';
import { CloseCode } from '@im/protocol';
import { createRedis, GatewayBus, GatewayEnvelope, PresenceStore, type RedisClient } from '@im/realtime';
import { Tracer } from '@im/tracing';
import { AckWaiters } from './ack-waiters';
import { ClientConnection } from './client-connection';
import { deliverEnvelope } from './deliver-envelope';
import { LocalConnections } from './local-connections';

// After Redis lost its data, pushes find this gateway's devices again within this period.
const PRESENCE_REFRESH_MS = 5_000;

/**
 * Connections as the rest of the system sees them: registered in Redis presence so that other
 * services can reach them, replaced (4409) when the same device connects again anywhere,
 * closed when silent for 2 × heartbeat (4408) or when their token expires, and fed by this
 * instance's bus channel.
 */
@Injectable()
export class ConnectionRegistry implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('connections');
  private subscriber?: RedisClient;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly local: LocalConnections,
    private readonly waiters: AckWaiters,
    private readonly presence: PresenceStore,
    private readonly bus: GatewayBus,
    private readonly config: AppConfig,
    private readonly tracer: Tracer,
  ) {}

  get gatewayId(): string {
    return this.config.INSTANCE_ID;
  }

  async onModuleInit() {
    this.subscriber = createRedis(redisTarget(this.config), redisKeyPrefix(this.config));
    await GatewayBus.subscribe(this.subscriber, this.gatewayId, (e) => this.deliver(e));
    this.timers.push(setInterval(() => this.closeSilent(), Math.min(1000, this.config.HEARTBEAT_MS)));
    this.timers.push(setInterval(() => void this.refreshPresence(), PRESENCE_REFRESH_MS));
  }

  /** Carries out an envelope; a traced one (a message's push or ack) as the `push` span. */
  private deliver(e: GatewayEnvelope): void {
    const span =
      (e.kind === 'to_conn' || e.kind === 'to_devices') && e.traceparent
        ? this.tracer.child('push', e.traceparent, 'consumer', {
            'im.frame': e.frame.type,
            'im.devices': e.kind === 'to_devices' ? e.devices.length : 1,
          })
        : undefined;
    deliverEnvelope(e, this.local, this.waiters);
    span?.end();
  }

  /** Clients reconnect (to another instance) when told 1001. */
  beforeApplicationShutdown() {
    for (const t of this.timers) clearInterval(t);
    for (const c of this.local.all()) c.close(CloseCode.goingAway, 'server going away');
  }

  onApplicationShutdown() {
    this.subscriber?.disconnect();
  }

  async add(conn: ClientConnection): Promise<void> {
    this.local.add(conn)?.close(CloseCode.replaced, 'replaced by a newer connection');
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
    if (!this.local.remove(conn)) return;
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

  private closeSilent(): void {
    const now = Date.now();
    for (const c of this.local.all()) {
      if (now - c.lastSeenAt > 2 * this.config.HEARTBEAT_MS)
        c.close(CloseCode.heartbeatTimeout, 'heartbeat timeout');
      else if (c.tokenExpiresAt * 1000 <= now) c.close(CloseCode.unauthorized, 'token expired');
    }
  }

  private async refreshPresence(): Promise<void> {
    const entries = this.local.all().map((c) => ({
      userId: c.userId,
      deviceId: c.deviceId,
      presence: { gatewayId: this.gatewayId, connId: c.connId, connectedAt: c.connectedAt },
    }));
    await this.presence
      .refresh(entries)
      .catch((e) => this.logger.warn(`presence refresh failed: ${String(e)}`));
  }
}
