import type { SocketFactory, SocketLike } from '../socket';

type Frame = { type: string } & Record<string, unknown>;

/**
 * A WebSocket stand-in driven by the test, which plays the server: open(), receive(),
 * serverClose(); what the client sent is in `sent` (parsed with frames()).
 */
export class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  readonly sent: string[] = [];
  /** How the client closed it, if it did. */
  closedWith?: { code?: number; reason?: string };
  /** Answer every ping with a pong, as the server does; switch off to play a silent server. */
  autoPong = true;

  constructor(readonly url: string) {}

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(data);
    if (this.autoPong && (JSON.parse(data) as Frame).type === 'ping')
      queueMicrotask(() => this.readyState === 1 && this.receive({ type: 'pong', serverTime: 0 }));
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.closedWith = { code, reason };
    // Like a browser: the close event comes later, not inside close().
    queueMicrotask(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? '' }));
  }

  // The server's side.

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: Frame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** Opens (if needed) and sends the welcome. */
  welcome(
    fields: Partial<Record<'userId' | 'deviceId' | 'serverTime' | 'heartbeatMs' | 'epoch', unknown>> = {},
  ): void {
    if (this.readyState === 0) this.open();
    this.receive({
      type: 'welcome',
      userId: 'u1',
      deviceId: 'd1',
      serverTime: 0,
      heartbeatMs: 25_000,
      ...fields,
    });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** Every frame the client sent, parsed. */
  frames(): Frame[] {
    return this.sent.map((text) => JSON.parse(text) as Frame);
  }

  framesOf(type: string): Frame[] {
    return this.frames().filter((f) => f.type === type);
  }

  /** The last frame of this type, or an error (tests want to fail loudly). */
  last(type: string): Frame {
    const frames = this.framesOf(type);
    if (frames.length === 0) throw new Error(`no ${type} frame was sent; sent: ${this.sent.join(' ')}`);
    return frames[frames.length - 1];
  }
}

/** Hands out FakeSockets and remembers them, newest last. */
export class FakeNetwork {
  readonly sockets: FakeSocket[] = [];
  readonly factory: SocketFactory = (url) => {
    const socket = new FakeSocket(url);
    this.sockets.push(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }
}
