import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ServerFrame } from '@im/protocol';
import { ConnectionSends } from '../messaging/send-message/connection-sends';

/** One live WebSocket of one device. */
export class ClientConnection {
  readonly connId = randomUUID();
  readonly connectedAt = Date.now();
  lastSeenAt = Date.now();
  /** This connection's sends in flight, kept in order by SendMessageUseCase. */
  readonly sends = new ConnectionSends();
  closed = false;

  constructor(
    readonly socket: WebSocket,
    readonly userId: string,
    readonly deviceId: string,
    readonly tokenExpiresAt: number,
    /** The jti of the token the connection was opened with, to close it when that token is revoked. */
    readonly tokenId?: string,
  ) {}

  private corked = false;

  get key(): string {
    return deviceKey(this.userId, this.deviceId);
  }

  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  /** A frame already serialized (one text shared by many sockets), sent as a text frame. */
  sendText(text: string | Buffer): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.corkUntilNextTick();
    this.socket.send(text, { binary: false });
  }

  /**
   * Frames sent in one tick (a burst of pushes and acks) leave in one write instead of one
   * syscall each. `_socket` is ws's underlying net.Socket; without it frames go out unbatched.
   */
  private corkUntilNextTick(): void {
    if (this.corked) return;
    const raw = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (!raw) return;
    this.corked = true;
    raw.cork();
    process.nextTick(() => {
      this.corked = false;
      raw.uncork();
    });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
  }
}

export const deviceKey = (userId: string, deviceId: string) => `${userId}|${deviceId}`;
