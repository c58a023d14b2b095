import type { EpochRepository } from '@im/database';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { WebSocketServer, type ServerOptions } from 'ws';
import type { AppConfig } from '@im/config';
import type { ServerFrame } from '@im/protocol';
import type { TokenService, UserIdentity } from '../auth/token.service';
import type { FrameRouter } from '../frames/frame-router';
import type { ClientConnection } from './client-connection';
import type { ConnectionRegistry } from './connection-registry';
import { WsEndpoint } from './ws-endpoint';

/** A WebSocket as ws hands it over after the upgrade: records frames and closes, emits events. */
class FakeWebSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  constructor(private readonly log: string[]) {
    super();
  }
  send(text: string) {
    this.log.push(`sent ${(JSON.parse(text) as ServerFrame).type}`);
    this.frames.push(JSON.parse(text) as ServerFrame);
  }
  close(code: number) {
    this.log.push(`closed ${code}`);
  }
  readonly frames: ServerFrame[] = [];
}

/** The raw socket of the HTTP upgrade: what was written to it before it was ended. */
function fakeSocket(destroyed = false) {
  const written: string[] = [];
  const socket = {
    destroyed,
    end(text: string) {
      written.push(text);
      this.destroyed = true;
    },
  };
  /** The HTTP answer, parsed; undefined when nothing was written. */
  const answer = () => {
    if (written.length === 0) return undefined;
    const [head, body] = written[0].split('\r\n\r\n');
    const [statusLine, ...headers] = head.split('\r\n');
    return { statusLine, headers, body, json: JSON.parse(body) as unknown };
  };
  return { socket: socket as unknown as Duplex, written, answer };
}

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const flush = () => new Promise((r) => setImmediate(r));

describe('WsEndpoint', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const alice: UserIdentity = { userId: 'alice', expiresAt: 2_000_000_000, jti: 'jti-a' };

  function setup(options: { allowedOrigins?: string; atLimit?: boolean; registration?: Promise<void> } = {}) {
    const config = {
      ALLOWED_ORIGINS: options.allowedOrigins ?? 'https://app.example,https://admin.example',
      MAX_FRAME_BYTES: 4096,
      MAX_CONNECTIONS_PER_USER: 3,
      HEARTBEAT_MS: 25_000,
    } as AppConfig;
    const verified: (string | null | undefined)[] = [];
    let revocationCheck: () => Promise<boolean> = async () => false;
    const tokens = {
      verify: (token: string | null | undefined) => {
        verified.push(token);
        if (token === 'alice-token') return alice;
        if (token === 'system-token') return { userId: 'system', expiresAt: 2_000_000_000 };
        return null;
      },
      isRevoked: () => revocationCheck(),
    } as unknown as TokenService;
    const log: string[] = [];
    const added: ClientConnection[] = [];
    const removed: ClientConnection[] = [];
    const registry = {
      add: (conn: ClientConnection) => {
        added.push(conn);
        return options.registration ?? Promise.resolve();
      },
      remove: (conn: ClientConnection) => void removed.push(conn),
      atConnectionLimit: async () => options.atLimit ?? false,
    } as unknown as ConnectionRegistry;
    let failFrames = false;
    const router = {
      handleText: async (_conn: ClientConnection, text: string) => {
        log.push(`handled ${text}`);
        if (failFrames) throw new TypeError('a bug');
      },
      handleBinary: async () => void log.push('handled binary'),
    } as unknown as FrameRouter;

    // ws's own upgrade needs a real socket; the spec hands over a fake WebSocket instead.
    const ws = new FakeWebSocket(log);
    const wsOptions: ServerOptions[] = [];
    const upgrade = jest.spyOn(WebSocketServer.prototype, 'handleUpgrade').mockImplementation(function (
      this: WebSocketServer,
      request,
      _socket,
      _head,
      callback,
    ) {
      wsOptions.push(this.options);
      callback(ws, request);
    });

    const server = new EventEmitter();
    const epochs = { current: async () => 'epoch-1' } as unknown as EpochRepository;
    new WsEndpoint(config, tokens, registry, router, epochs).attach(server as unknown as Server);
    const connect = (url: string, headers: Record<string, string> = {}, destroyed = false) => {
      const socket = fakeSocket(destroyed);
      server.emit('upgrade', { url, headers }, socket.socket, Buffer.alloc(0));
      return socket;
    };
    return {
      connect,
      ws,
      log,
      added,
      removed,
      verified,
      upgrade,
      wsOptions,
      revocationIs: (check: () => Promise<boolean>) => (revocationCheck = check),
      failFrames: () => (failFrames = true),
    };
  }

  it.each([
    ['another path', '/socket?deviceId=d1&token=alice-token', {}, 404, 'not found'],
    [
      'an origin not allowed',
      '/ws?deviceId=d1&token=alice-token',
      { origin: 'https://evil.example' },
      403,
      'origin https://evil.example is not allowed',
    ],
    ['no token', '/ws?deviceId=d1', {}, 401, 'missing, invalid or expired token'],
    ['an invalid token', '/ws?deviceId=d1&token=forged', {}, 401, 'missing, invalid or expired token'],
    [
      'a token of the system user',
      '/ws?deviceId=d1&token=system-token',
      {},
      401,
      'missing, invalid or expired token',
    ],
    ['no deviceId', '/ws?token=alice-token', {}, 400, 'deviceId must be 1-64 characters of [A-Za-z0-9_-]'],
    [
      'a deviceId with other characters',
      '/ws?deviceId=my%20phone&token=alice-token',
      {},
      400,
      'deviceId must be 1-64 characters of [A-Za-z0-9_-]',
    ],
  ])(
    'refuses %s with an HTTP error and a JSON body, before any WebSocket',
    async (_, url, headers, status, message) => {
      const { connect, upgrade } = setup();
      const { answer } = connect(url, headers);
      await flush();
      const reasons: Record<number, string> = {
        400: 'Bad Request',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'Not Found',
      };
      const reply = answer();
      expect(reply?.statusLine).toBe(`HTTP/1.1 ${status} ${reasons[status]}`);
      expect(reply?.json).toEqual({ statusCode: status, error: reasons[status], message });
      expect(reply?.headers).toContain(`Content-Length: ${Buffer.byteLength(reply?.body ?? '')}`);
      expect(reply?.headers).toContain('Content-Type: application/json');
      expect(upgrade).not.toHaveBeenCalled();
    },
  );

  it('refuses a revoked token (401) and a user at the connection limit (429)', async () => {
    const revoked = setup();
    revoked.revocationIs(async () => true);
    const first = revoked.connect('/ws?deviceId=d1&token=alice-token');
    await flush();
    expect(first.answer()?.json).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'token revoked',
    });

    const full = setup({ atLimit: true });
    const second = full.connect('/ws?deviceId=d1&token=alice-token');
    await flush();
    expect(second.answer()?.statusLine).toBe('HTTP/1.1 429 Too Many Requests');
    expect(second.answer()?.json).toEqual(
      expect.objectContaining({ message: 'at most 3 connections per user' }),
    );
    expect([revoked.upgrade, full.upgrade].map((u) => u.mock.calls.length)).toEqual([0, 0]);
  });

  it('answers a failure while admitting with 503 (retry), and writes nothing to a socket already gone', async () => {
    const { connect, revocationIs, upgrade } = setup();
    revocationIs(() => Promise.reject(new Error('Redis down')));
    const live = connect('/ws?deviceId=d1&token=alice-token');
    const gone = connect('/ws?deviceId=d2&token=alice-token', {}, true);
    await flush();
    expect(live.answer()?.statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    expect(live.answer()?.json).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'temporarily unavailable; retry',
    });
    expect(gone.written).toEqual([]);
    expect(upgrade).not.toHaveBeenCalled();
  });

  it('admits a valid token (the Authorization header before the query), registers the device and sends welcome', async () => {
    const { connect, ws, added, verified, wsOptions } = setup();
    const socket = connect('/ws?deviceId=phone_1&token=forged', {
      authorization: 'Bearer alice-token ',
      origin: 'https://app.example',
    });
    await flush();

    expect(verified).toEqual(['alice-token']);
    expect(socket.written).toEqual([]);
    expect(added.map((c) => [c.userId, c.deviceId, c.tokenExpiresAt, c.tokenId])).toEqual([
      ['alice', 'phone_1', 2_000_000_000, 'jti-a'],
    ]);
    expect(ws.frames).toEqual([
      {
        type: 'welcome',
        userId: 'alice',
        deviceId: 'phone_1',
        serverTime: expect.any(Number),
        heartbeatMs: 25_000,
        epoch: 'epoch-1',
      },
    ]);
    // Oversized frames are ws's to refuse (1009); compression stays off.
    expect(wsOptions).toEqual([expect.objectContaining({ maxPayload: 4096, perMessageDeflate: false })]);
  });

  it('admits any origin when no origins are configured, and a token from the query', async () => {
    const { connect, added } = setup({ allowedOrigins: '' });
    connect('/ws?deviceId=d1&token=alice-token', { origin: 'https://anywhere.example' });
    await flush();
    expect(added.map((c) => c.userId)).toEqual(['alice']);
  });

  it('holds frames that arrive during registration, and handles them in order after the welcome', async () => {
    const registration = deferred();
    const { connect, ws, log } = setup({ registration: registration.promise });
    connect('/ws?deviceId=d1&token=alice-token');
    await flush();
    ws.emit('message', Buffer.from('{"type":"ping"}'), false);
    ws.emit('message', Buffer.from([1, 2, 3]), true);
    // A text frame ws delivers in fragments.
    ws.emit('message', [Buffer.from('{"type":'), Buffer.from('"typing"}')], false);
    await flush();
    expect(log).toEqual([]);

    registration.resolve();
    await flush();
    expect(log).toEqual([
      'sent welcome',
      'handled {"type":"ping"}',
      'handled binary',
      'handled {"type":"typing"}',
    ]);
  });

  it('answers a frame that fails with an internal error and keeps the connection open', async () => {
    const { connect, ws, log, failFrames } = setup();
    connect('/ws?deviceId=d1&token=alice-token');
    await flush();
    failFrames();
    ws.emit('message', Buffer.from('{"type":"ping"}'), false);
    await flush();
    expect(ws.frames.at(-1)).toEqual({
      type: 'error',
      code: 'internal',
      message: 'the frame could not be handled',
    });
    expect(log).not.toContainEqual(expect.stringMatching(/^closed/));
  });

  it('closes with 1011 and sends no welcome when registration fails', async () => {
    const registration = deferred();
    const { connect, ws, log } = setup({ registration: registration.promise });
    connect('/ws?deviceId=d1&token=alice-token');
    await flush();
    registration.reject(new Error('Redis down'));
    await flush();
    expect(log).toEqual(['closed 1011']);
    expect(ws.frames).toEqual([]);
  });

  it('marks the connection closed and unregisters it when the socket closes', async () => {
    const { connect, ws, added, removed } = setup();
    connect('/ws?deviceId=d1&token=alice-token');
    await flush();
    expect(removed).toEqual([]);
    ws.emit('close', 1000, Buffer.alloc(0));
    expect(added[0].closed).toBe(true);
    await flush();
    expect(removed).toEqual(added);
  });

  it('unregisters a connection that closes while its registration is pending only after it settled', async () => {
    // Removed first, the presence the registration wrote afterwards would stay until it expires.
    let register!: () => void;
    const { connect, ws, added, removed } = setup({ registration: new Promise<void>((r) => (register = r)) });
    connect('/ws?deviceId=d1&token=alice-token');
    await flush();
    ws.emit('close', 1000, Buffer.alloc(0));
    await flush();
    expect(removed).toEqual([]);
    register();
    await flush();
    expect(removed).toEqual(added);
  });
});
