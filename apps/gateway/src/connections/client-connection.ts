import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ServerFrame } from '@im/protocol';

/** One live WebSocket of one device. */
export class ClientConnection {
  readonly connId = randomUUID();
  readonly connectedAt = Date.now();
  lastSeenAt = Date.now();
  /** Sends of this connection pass through here one after another, to keep their order. */
  sendChain: Promise<void> = Promise.resolve();
  closed = false;

  constructor(
    readonly socket: WebSocket,
    readonly userId: string,
    readonly deviceId: string,
    readonly tokenExpiresAt: number,
    /** The jti of the token the connection was opened with, to close it when that token is revoked. */
    readonly tokenId?: string,
  ) {}

  get key(): string {
    return deviceKey(this.userId, this.deviceId);
  }

  send(frame: ServerFrame): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
  }
}

export const deviceKey = (userId: string, deviceId: string) => `${userId}|${deviceId}`;
