import type { DevicePresence, GatewayBus, GatewayEnvelope, PresenceStore } from '@im/realtime';
import { CloseCode } from '@im/protocol';
import type { TokenService } from '../auth/token.service';
import { UserSessions } from './user-sessions';

/** Records the order of revocations and bus messages: a revocation must come first. */
function setUp(devices: Record<string, Omit<DevicePresence, 'connId'>>) {
  const log: string[] = [];
  const published: { gatewayId: string; envelope: GatewayEnvelope }[] = [];
  const tokens = {
    revokeUserTokens: async (userId: string) => void log.push(`revoke-all ${userId}`),
    denyToken: async (jti: string) => void log.push(`deny ${jti}`),
  } as unknown as TokenService;
  const presence = {
    devicesOf: async (userIds: string[]) =>
      new Map(userIds.map((u) => [u, new Map(Object.entries(devices))])),
  } as unknown as PresenceStore;
  const bus = {
    publishMany: async (items: { gatewayId: string; envelope: GatewayEnvelope }[]) => {
      log.push('publish');
      published.push(...items);
    },
  } as unknown as GatewayBus;
  return { sessions: new UserSessions(tokens, presence, bus), log, published };
}

describe('UserSessions', () => {
  const twoGateways = {
    phone: { gatewayId: 'gw-a', connectedAt: Date.UTC(2026, 0, 1) },
    laptop: { gatewayId: 'gw-b', connectedAt: Date.UTC(2026, 0, 2) },
    tablet: { gatewayId: 'gw-a', connectedAt: Date.UTC(2026, 0, 3) },
  };

  it('lists the live devices with their connection time', async () => {
    const { sessions } = setUp(twoGateways);
    expect(await sessions.list('alice')).toEqual([
      { deviceId: 'phone', connectedAt: '2026-01-01T00:00:00.000Z' },
      { deviceId: 'laptop', connectedAt: '2026-01-02T00:00:00.000Z' },
      { deviceId: 'tablet', connectedAt: '2026-01-03T00:00:00.000Z' },
    ]);
  });

  it('revokes every token first, then tells each gateway holding a connection once to close with 4401', async () => {
    const { sessions, log, published } = setUp(twoGateways);
    await sessions.revokeAll('alice');
    expect(log).toEqual(['revoke-all alice', 'publish']);
    expect(published.map((p) => p.gatewayId).sort()).toEqual(['gw-a', 'gw-b']);
    for (const { envelope } of published)
      expect(envelope).toEqual({
        kind: 'close',
        userId: 'alice',
        tokenId: undefined,
        code: CloseCode.unauthorized,
        reason: 'token revoked',
      });
  });

  it('revoking one token closes only the connections opened with it', async () => {
    const { sessions, log, published } = setUp(twoGateways);
    await sessions.revokeToken('alice', 'jti-1');
    expect(log).toEqual(['deny jti-1', 'publish']);
    expect(published.every((p) => p.envelope.kind === 'close' && p.envelope.tokenId === 'jti-1')).toBe(true);
  });

  it('a user with no live connection is revoked and nothing is published', async () => {
    const { sessions, log, published } = setUp({});
    await sessions.revokeAll('bob');
    expect(log).toEqual(['revoke-all bob', 'publish']);
    expect(published).toEqual([]);
  });
});
