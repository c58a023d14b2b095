import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { WebSocketServer, WebSocket, RawData } from 'ws';
import { AppConfig } from '@im/config';
import { CLIENT_ID_PATTERN, SYSTEM_USER_ID } from '@im/protocol';
import { EpochRepository } from '@im/database';
import { bearerToken } from '../auth/bearer';
import { TokenService } from '../auth/token.service';
import { FrameRouter } from '../frames/frame-router';
import { ClientConnection } from './client-connection';
import { ConnectionRegistry } from './connection-registry';

/**
 * `GET /ws`: authenticates at the HTTP upgrade (a bad token gets 401 and no WebSocket),
 * then speaks the protocol's JSON frames. Frames over MAX_FRAME_BYTES close with 1009 (ws).
 */
@Injectable()
export class WsEndpoint {
  private readonly logger = new Logger('ws');
  private wss?: WebSocketServer;
  private readonly allowedOrigins: Set<string>;

  constructor(
    private readonly config: AppConfig,
    private readonly tokens: TokenService,
    private readonly registry: ConnectionRegistry,
    private readonly router: FrameRouter,
    private readonly epochs: EpochRepository,
  ) {
    this.allowedOrigins = new Set(config.ALLOWED_ORIGINS.split(',').filter(Boolean));
  }

  attach(server: Server): void {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.config.MAX_FRAME_BYTES,
      perMessageDeflate: false,
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.admit(req, socket, head).catch((error) => {
      this.logger.error(`upgrade failed: ${String(error)}`);
      reject(socket, 503, 'temporarily unavailable; retry');
    });
  }

  /** Every check of docs/protocol.md §2 and of the security settings, before any WebSocket exists. */
  private async admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return reject(socket, 404, 'not found');
    const origin = req.headers.origin;
    if (origin && this.allowedOrigins.size > 0 && !this.allowedOrigins.has(origin))
      return reject(socket, 403, `origin ${origin} is not allowed`);
    const header = req.headers.authorization;
    const bearer = bearerToken(header);
    const identity = this.tokens.verify(bearer ?? url.searchParams.get('token'));
    if (!identity || identity.userId === SYSTEM_USER_ID)
      return reject(socket, 401, 'missing, invalid or expired token');
    const deviceId = url.searchParams.get('deviceId') ?? '';
    if (!CLIENT_ID_PATTERN.test(deviceId))
      return reject(socket, 400, 'deviceId must be 1-64 characters of [A-Za-z0-9_-]');
    if (await this.tokens.isRevoked(identity)) return reject(socket, 401, 'token revoked');
    if (await this.registry.atConnectionLimit(identity.userId, deviceId))
      return reject(socket, 429, `at most ${this.config.MAX_CONNECTIONS_PER_USER} connections per user`);

    this.wss!.handleUpgrade(req, socket, head, (ws) => {
      const conn = new ClientConnection(ws, identity.userId, deviceId, identity.expiresAt, identity.jti);
      this.open(conn, ws).catch((error) => {
        this.logger.error(`connection of ${conn.key} failed to open: ${String(error)}`);
        conn.close(1011, 'internal error');
      });
    });
  }

  private async open(conn: ClientConnection, ws: WebSocket): Promise<void> {
    // Frames that arrive before the welcome is sent wait in order behind it: it is the first frame.
    const ready = Promise.all([this.registry.add(conn), this.epochs.current()]).then(([, epoch]) =>
      conn.send({
        type: 'welcome',
        userId: conn.userId,
        deviceId: conn.deviceId,
        serverTime: Date.now(),
        heartbeatMs: this.config.HEARTBEAT_MS,
        epoch,
      }),
    );
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const text = isBinary
        ? null
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.concat(toBuffers(data)).toString('utf8');
      ready
        .then(() => (text === null ? this.router.handleBinary(conn) : this.router.handleText(conn, text)))
        .catch((error) => {
          // Whatever a frame does, it must not take the gateway (and every other connection) down.
          this.logger.error(`frame of ${conn.key} failed: ${String(error)}`);
          conn.send({ type: 'error', code: 'internal', message: 'the frame could not be handled' });
        });
    });
    ws.on('close', () => {
      conn.closed = true;
      // After registration settles: a remove that overtook it left the presence it then wrote.
      const remove = () => this.registry.remove(conn);
      ready.then(remove, remove);
    });
    ws.on('error', (error) => this.logger.debug(`socket error of ${conn.key}: ${error.message}`));
    await ready;
  }
}

const toBuffers = (data: RawData): Buffer[] =>
  Array.isArray(data) ? data : [Buffer.from(data as ArrayBuffer)];

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

function reject(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ statusCode: status, error: REASONS[status], message });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
