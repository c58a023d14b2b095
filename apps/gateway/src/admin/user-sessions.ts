import { Injectable } from '@nestjs/common';
import { CloseCode } from '@im/protocol';
import { GatewayBus, PresenceStore } from '@im/realtime';
import { TokenService } from '../auth/token.service';

export interface SessionView {
  deviceId: string;
  connectedAt: string;
}

/**
 * A user's live sessions, and taking them away: a revocation is written first (so a token
 * cannot open a new connection), then every gateway holding one of the user's connections is
 * told to close it with 4401, one bus message per gateway.
 */
@Injectable()
export class UserSessions {
  constructor(
    private readonly tokens: TokenService,
    private readonly presence: PresenceStore,
    private readonly bus: GatewayBus,
  ) {}

  async list(userId: string): Promise<SessionView[]> {
    const devices = (await this.presence.devicesOf([userId])).get(userId) ?? new Map();
    return [...devices].map(([deviceId, p]) => ({
      deviceId,
      connectedAt: new Date(p.connectedAt).toISOString(),
    }));
  }

  /** Revokes every token issued to the user so far and closes all their connections. */
  async revokeAll(userId: string): Promise<void> {
    await this.tokens.revokeUserTokens(userId);
    await this.closeConnections(userId, undefined);
  }

  /** Revokes one token (by its jti) and closes the connections opened with it. */
  async revokeToken(userId: string, tokenId: string): Promise<void> {
    await this.tokens.denyToken(tokenId);
    await this.closeConnections(userId, tokenId);
  }

  private async closeConnections(userId: string, tokenId: string | undefined): Promise<void> {
    const devices = (await this.presence.devicesOf([userId])).get(userId) ?? new Map();
    const gateways = new Set([...devices.values()].map((p) => p.gatewayId));
    const envelope = {
      kind: 'close',
      userId,
      tokenId,
      code: CloseCode.unauthorized,
      reason: 'token revoked',
    } as const;
    await this.bus.publishMany([...gateways].map((gatewayId) => ({ gatewayId, envelope })));
  }
}
