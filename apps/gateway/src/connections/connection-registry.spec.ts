import { Tracer } from '@im/tracing';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '@im/config';
import type { ServerFrame } from '@im/protocol';
import {
  createRedis,
  type DevicePresence,
  type GatewayBus,
  type GatewayEnvelope,
  type PresenceStore,
} from '@im/realtime';
import { AckWaiters } from './ack-waiters';
import { ClientConnection } from './client-connection';
import { ConnectionRegistry } from './connection-registry';
import { LocalConnections } from './local-connections';

// The bus subscriber is the one real Redis client the registry makes itself: a fake stands in.
jest.mock('@im/realtime', () => ({
  ...jest.requireActual<typeof import('@im/realtime')>('@im/realtime'),
  createRedis: jest.fn(),
}));

/** A connection over a fake socket that records what it was sent and how it was closed. */
function fakeConnection(userId: string, deviceId: string, tokenExpiresAt = Date.now() / 1000 + 3600) {
  const sent: ServerFrame[] = [];
  const closed: number[] = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    send: (text: string) => sent.push(JSON.parse(text) as ServerFrame),
    close: (code: number) => closed.push(code),
  };
  const conn = new ClientConnection(socket as never, userId, deviceId, tokenExpiresAt);
  return { conn, sent, closed };
}

/** Presence in Redis as the registry uses it: who registered, unregistered and refreshed what. */
function fakePresence(devices = new Map<string, Map<string, DevicePresence>>()) {
  const calls = {
    registered: [] as [string, string, DevicePresence][],
    unregistered: [] as [string, string, string][],
    refreshed: [] as { userId: string; deviceId: string; presence: DevicePresence }[][],
  };
  let previous: DevicePresence | null = null;
  let failing = false;
  const presence = {
    register: async (userId: string, deviceId: string, p: DevicePresence) => {
      calls.registered.push([userId, deviceId, p]);
      return previous;
    },
    unregister: async (userId: string, deviceId: string, connId: string) => {
      calls.unregistered.push([userId, deviceId, connId]);
      if (failing) throw new Error('Redis down');
    },
    refresh: async (entries: { userId: string; deviceId: string; presence: DevicePresence }[]) => {
      calls.refreshed.push(entries);
      if (failing) throw new Error('Redis down');
    },
    devicesOf: async (userIds: string[]) =>
      new Map(userIds.filter((id) => devices.has(id)).map((id) => [id, new Map(devices.get(id))])),
  } as unknown as PresenceStore;
  return {
    presence,
    calls,
    previousIs: (p: DevicePresence | null) => (previous = p),
    fail: () => (failing = true),
  };
}

describe('ConnectionRegistry', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  function setup(options: { heartbeatMs?: number; devices?: Map<string, Map<string, DevicePresence>> } = {}) {
    const config = {
      INSTANCE_ID: 'gw-1',
      REDIS_URL: 'redis://fake:6379',
      REDIS_KEY_PREFIX: 'test:',
      HEARTBEAT_MS: options.heartbeatMs ?? 60_000,
      MAX_CONNECTIONS_PER_USER: 2,
    } as AppConfig;
    const local = new LocalConnections();
    const presence = fakePresence(options.devices);
    const published: [string, GatewayEnvelope][] = [];
    const bus = {
      publish: async (gatewayId: string, envelope: GatewayEnvelope) =>
        void published.push([gatewayId, envelope]),
    } as unknown as GatewayBus;
    const registry = new ConnectionRegistry(
      local,
      new AckWaiters(),
      presence.presence,
      bus,
      config,
      Tracer.off,
    );
    return { registry, local, published, ...presence };
  }

  /** The subscriber `onModuleInit` listens on: its channels, and a way to publish to it. */
  function fakeSubscriber() {
    const channels: string[] = [];
    let onMessage: (channel: string, message: string) => void = () => undefined;
    let disconnected = false;
    const subscriber = {
      options: { keyPrefix: 'test:' },
      on: (event: string, listener: typeof onMessage) => {
        if (event === 'message') onMessage = listener;
      },
      subscribe: async (channel: string) => void channels.push(channel),
      disconnect: () => (disconnected = true),
    };
    jest.mocked(createRedis).mockReturnValue(subscriber as unknown as Redis);
    return {
      channels,
      publish: (envelope: GatewayEnvelope) => onMessage(channels[0], JSON.stringify(envelope)),
      disconnected: () => disconnected,
    };
  }

  it('registers a connection in presence under this gateway and closes the one it replaces here with 4409', async () => {
    const { registry, local, calls } = setup();
    const older = fakeConnection('u1', 'd1');
    const otherDevice = fakeConnection('u1', 'd2');
    await registry.add(older.conn);
    await registry.add(otherDevice.conn);
    const newer = fakeConnection('u1', 'd1');
    await registry.add(newer.conn);

    expect(older.closed).toEqual([4409]);
    expect(otherDevice.closed).toEqual([]);
    expect(local.byDevice('u1', 'd1')).toBe(newer.conn);
    expect(calls.registered.at(-1)).toEqual([
      'u1',
      'd1',
      { gatewayId: 'gw-1', connId: newer.conn.connId, connectedAt: newer.conn.connectedAt },
    ]);
  });

  it('asks the gateway that held the device before to close its connection (4409), sparing the new one', async () => {
    const { registry, published, previousIs } = setup();
    await registry.add(fakeConnection('u1', 'd1').conn); // held by none before: nothing to close
    previousIs({ gatewayId: 'gw-1', connId: 'old-conn', connectedAt: 1 });
    await registry.add(fakeConnection('u1', 'd1').conn); // held here: closed locally, not over the bus
    expect(published).toEqual([]);

    previousIs({ gatewayId: 'gw-2', connId: 'old-conn', connectedAt: 1 });
    const conn = fakeConnection('u1', 'd1');
    await registry.add(conn.conn);
    expect(published).toEqual([
      [
        'gw-2',
        {
          kind: 'close',
          userId: 'u1',
          deviceId: 'd1',
          exceptConnId: conn.conn.connId,
          code: 4409,
          reason: 'replaced by a newer connection',
        },
      ],
    ]);
  });

  it('unregisters presence by the connection’s own id, once, and only logs a failure to do so', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { registry, local, calls, fail } = setup();
    const a = fakeConnection('u1', 'd1');
    await registry.add(a.conn);
    fail();
    registry.remove(a.conn);
    registry.remove(a.conn); // ws reports close once, but a second call must not unregister again
    await jest.advanceTimersByTimeAsync(0);

    // By connId: a newer connection of the device (maybe elsewhere) keeps its presence.
    expect(calls.unregistered).toEqual([['u1', 'd1', a.conn.connId]]);
    expect(local.all()).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`presence of ${a.conn.key} not removed`));
  });

  it('counts the user’s other devices against the limit, never the one reconnecting', async () => {
    const here = { gatewayId: 'gw-1', connId: 'x', connectedAt: 1 };
    const devices = new Map([
      [
        'u1',
        new Map([
          ['d1', here],
          ['d2', here],
        ]),
      ],
      ['u2', new Map([['d1', here]])],
    ]);
    const { registry } = setup({ devices });
    await expect(registry.atConnectionLimit('u1', 'd3')).resolves.toBe(true);
    await expect(registry.atConnectionLimit('u1', 'd1')).resolves.toBe(false);
    await expect(registry.atConnectionLimit('u2', 'd2')).resolves.toBe(false);
    await expect(registry.atConnectionLimit('nobody', 'd1')).resolves.toBe(false);
  });

  it('closes a connection silent for more than 2 × heartbeat (4408) or whose token expired (4401)', async () => {
    fakeSubscriber();
    const { registry } = setup({ heartbeatMs: 1_000 });
    await registry.onModuleInit();
    const silent = fakeConnection('u1', 'd1');
    const expiring = fakeConnection('u2', 'd1', Date.now() / 1000 + 1.5);
    const talking = fakeConnection('u3', 'd1');
    for (const c of [silent, expiring, talking]) await registry.add(c.conn);
    const speak = () => {
      expiring.conn.lastSeenAt = Date.now();
      talking.conn.lastSeenAt = Date.now();
    };

    await jest.advanceTimersByTimeAsync(1_000);
    speak();
    expect([silent.closed, expiring.closed]).toEqual([[], []]);
    await jest.advanceTimersByTimeAsync(1_000); // silent exactly 2 × heartbeat: not yet
    speak();
    expect([silent.closed, expiring.closed]).toEqual([[], [4401]]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect([silent.closed, expiring.closed, talking.closed]).toEqual([[4408], [4401], []]);
    registry.beforeApplicationShutdown();
  });

  it('re-asserts the presence of its connections every 5 s, surviving a failed refresh', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    fakeSubscriber();
    const { registry, calls, fail } = setup();
    await registry.onModuleInit();
    const a = fakeConnection('u1', 'd1');
    await registry.add(a.conn);

    await jest.advanceTimersByTimeAsync(4_999);
    expect(calls.refreshed).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls.refreshed).toEqual([
      [
        {
          userId: 'u1',
          deviceId: 'd1',
          presence: { gatewayId: 'gw-1', connId: a.conn.connId, connectedAt: a.conn.connectedAt },
        },
      ],
    ]);
    fail();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls.refreshed).toHaveLength(3); // a failure does not stop the next period
    registry.beforeApplicationShutdown();
  });

  it('delivers what arrives on this gateway’s bus channel to its connections', async () => {
    const subscriber = fakeSubscriber();
    const { registry } = setup();
    await registry.onModuleInit();
    expect(jest.mocked(createRedis)).toHaveBeenCalledWith({ kind: 'single', url: 'redis://fake:6379' }, 'test:');
    expect(subscriber.channels).toEqual(['test:gw:gw-1']);

    const a = fakeConnection('u1', 'd1');
    await registry.add(a.conn);
    const pong: ServerFrame = { type: 'pong', serverTime: 1 };
    subscriber.publish({ kind: 'to_device', userId: 'u1', deviceId: 'd1', frames: [pong] });
    expect(a.sent).toEqual([pong]);
    registry.beforeApplicationShutdown();
  });

  it('on shutdown tells every connection to reconnect elsewhere (1001), stops its timers, then drops the subscriber', async () => {
    const subscriber = fakeSubscriber();
    const { registry, calls } = setup({ heartbeatMs: 1_000 });
    await registry.onModuleInit();
    const a = fakeConnection('u1', 'd1');
    const b = fakeConnection('u2', 'd1');
    await registry.add(a.conn);
    await registry.add(b.conn);

    registry.beforeApplicationShutdown();
    expect([a.closed, b.closed]).toEqual([[1001], [1001]]);
    expect(subscriber.disconnected()).toBe(false); // pushes may still arrive until the app is down
    await jest.advanceTimersByTimeAsync(30_000);
    expect(calls.refreshed).toEqual([]);
    registry.onApplicationShutdown();
    expect(subscriber.disconnected()).toBe(true);
  });
});
