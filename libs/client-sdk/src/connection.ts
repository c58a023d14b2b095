import { reconnectDelay, type ReconnectBackoff } from './backoff';
import type { Clock, TimerHandle } from './clock';
import { asClientError, ClientError, isProtocolErrorCode } from './errors';
import {
  CloseCode,
  epochOf,
  parseServerFrame,
  type ClientFrame,
  type RequestFrame,
  type ServerFrame,
  type ServerFrameMap,
  type ServerFrameType,
  type Welcome,
} from './protocol';
import { frameText, SOCKET_OPEN, type SocketFactory, type SocketLike } from './socket';

export interface ConnectionOptions {
  baseUrl: string;
  deviceId: string;
  /** Called before every connection attempt. */
  token: () => string | Promise<string>;
  /** Whether a 4401 is worth a reconnect (only when the app can supply a new token). */
  canRefreshToken: boolean;
  socketFactory: SocketFactory;
  clock: Clock;
  random: () => number;
  backoff: ReconnectBackoff;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

export interface ConnectionHandlers {
  onConnecting(): void;
  onWelcome(welcome: Welcome): void;
  onFrame(frame: ServerFrame): void;
  /** The connection ended; `stopped` when no reconnect follows. */
  onDown(stopped: boolean): void;
  onError(error: ClientError): void;
}

interface PendingRequest {
  frame: RequestFrame;
  expect: ServerFrameType;
  written: boolean;
  timer: TimerHandle;
  resolve(frame: ServerFrame): void;
  reject(error: ClientError): void;
}

/** Our own close code when we give up on a silent or stuck connection. */
const CLIENT_GAVE_UP = 4000;
/** The server's default, for a welcome without a usable heartbeatMs. */
const DEFAULT_HEARTBEAT_MS = 25_000;

/**
 * One logical connection: opens sockets, waits for `welcome`, pings, notices silence,
 * reconnects with backoff and full jitter, and matches requests to answers by reqId.
 */
export class Connection {
  private socket?: SocketLike;
  private welcomed = false;
  private running = false;
  private attempt = 0;
  private reconnectTimer?: TimerHandle;
  private connectTimer?: TimerHandle;
  private heartbeatTimer?: TimerHandle;
  private lastHeardAt = 0;
  private readonly requests = new Map<string, PendingRequest>();

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {}

  /** True between `welcome` and the end of the socket. */
  get isOpen(): boolean {
    return this.welcomed;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    void this.open();
  }

  /** Ends the connection for good (close()): no reconnect, every request rejects. */
  stop(error: ClientError): void {
    this.running = false;
    this.clearTimer('reconnectTimer');
    this.detach(1000, 'client closed');
    for (const [reqId, r] of this.requests) this.settle(reqId, r, error);
  }

  /**
   * The connection proved good (the client is ready): the next loss reconnects quickly
   * again. Not done at welcome, so that a server that welcomes but cannot sync is not
   * hammered at the shortest delay.
   */
  resetBackoff(): void {
    this.attempt = 0;
  }

  /** Gives up on the current socket (silent, stuck, or its sync failed) and reconnects. */
  drop(reason: string): void {
    if (!this.socket) return;
    this.detach(CLIENT_GAVE_UP, reason);
    this.down(false);
    this.scheduleReconnect();
  }

  /** Writes a frame if welcomed; false otherwise (the caller keeps it for later). */
  write(frame: ClientFrame): boolean {
    if (!this.welcomed || !this.socket || this.socket.readyState !== SOCKET_OPEN) return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends a request and resolves with its answer of type `expect`. A request made while
   * offline waits for the next welcome; `requestTimeoutMs` counts from the call.
   */
  request<T extends ServerFrameType>(frame: RequestFrame, expect: T): Promise<ServerFrameMap[T]> {
    return new Promise<ServerFrameMap[T]>((resolve, reject) => {
      if (!this.running)
        return reject(new ClientError('closed', 'the client is not connected; call connect()', frame.reqId));
      const timer = this.options.clock.setTimeout(() => {
        const r = this.requests.get(frame.reqId);
        if (r)
          this.settle(
            frame.reqId,
            r,
            new ClientError('timeout', `${frame.type} got no answer in time`, frame.reqId),
          );
      }, this.options.requestTimeoutMs);
      const pending: PendingRequest = {
        frame,
        expect,
        written: false,
        timer,
        resolve: (answer) => resolve(answer as ServerFrameMap[T]),
        reject,
      };
      this.requests.set(frame.reqId, pending);
      pending.written = this.write(frame);
    });
  }

  private async open(): Promise<void> {
    this.clearTimer('reconnectTimer');
    if (!this.running) return;
    this.handlers.onConnecting();
    let url: string;
    try {
      url = this.url(await this.options.token());
    } catch (error) {
      this.handlers.onError(asClientError(error, 'unauthorized', 'the token provider failed'));
      return this.scheduleReconnect();
    }
    if (!this.running) return;
    let socket: SocketLike;
    try {
      socket = this.options.socketFactory(url);
    } catch (error) {
      this.handlers.onError(asClientError(error, 'disconnected', 'the socket could not be created'));
      return this.scheduleReconnect();
    }
    this.socket = socket;
    socket.onopen = null;
    socket.onerror = null; // a close event always follows; that is where we decide
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(frameText(event.data));
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.closed(event.code, event.reason);
    };
    // An attempt that neither fails nor says welcome (a stuck proxy) must not hang forever.
    this.connectTimer = this.options.clock.setTimeout(
      () => this.drop('no welcome in time'),
      this.options.connectTimeoutMs,
    );
  }

  private url(token: string): string {
    const base = this.options.baseUrl.replace(/\/+$/, '');
    return `${base}/ws?token=${encodeURIComponent(token)}&deviceId=${encodeURIComponent(this.options.deviceId)}`;
  }

  private receive(text: string): void {
    this.lastHeardAt = this.options.clock.now();
    const frame = parseServerFrame(text);
    if (!frame)
      return this.handlers.onError(new ClientError('protocol', 'the server sent an unreadable frame'));
    if (frame.type === 'welcome') return this.welcome(frame);
    const reqId = 'reqId' in frame ? frame.reqId : frame.type === 'error' ? frame.ref : undefined;
    const pending = reqId === undefined ? undefined : this.requests.get(reqId);
    if (reqId !== undefined && pending) {
      if (frame.type === 'error') {
        const code = isProtocolErrorCode(frame.code) ? frame.code : 'internal';
        return this.settle(reqId, pending, new ClientError(code, frame.message, reqId));
      }
      if (frame.type === pending.expect) return this.settle(reqId, pending, undefined, frame);
    }
    this.handlers.onFrame(frame);
  }

  private welcome(frame: ServerFrameMap['welcome']): void {
    this.clearTimer('connectTimer');
    this.welcomed = true;
    this.heartbeat(frame.heartbeatMs > 0 ? frame.heartbeatMs : DEFAULT_HEARTBEAT_MS);
    for (const r of this.requests.values()) if (!r.written) r.written = this.write(r.frame);
    const { userId, deviceId, serverTime, heartbeatMs } = frame;
    const epoch = epochOf(frame.epoch);
    this.handlers.onWelcome({ userId, deviceId, serverTime, heartbeatMs, ...(epoch ? { epoch } : {}) });
  }

  /** Pings every heartbeatMs/2; a whole heartbeatMs without any frame means the link is dead. */
  private heartbeat(heartbeatMs: number): void {
    const interval = Math.max(1000, Math.floor(heartbeatMs / 2));
    this.heartbeatTimer = this.options.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      if (this.options.clock.now() - this.lastHeardAt > Math.max(heartbeatMs, 2 * interval))
        return this.drop('the server went silent');
      this.write({ type: 'ping' });
      this.heartbeat(heartbeatMs);
    }, interval);
  }

  private closed(code: number, reason: string): void {
    this.detach();
    let stopped = false;
    switch (code) {
      case CloseCode.replaced:
        this.handlers.onError(new ClientError('replaced', 'this device connected again elsewhere (4409)'));
        stopped = true;
        break;
      case CloseCode.forbidden:
        this.handlers.onError(
          new ClientError('forbidden', `the server refused this client (4403) ${reason}`),
        );
        stopped = true;
        break;
      case CloseCode.unauthorized:
        this.handlers.onError(new ClientError('unauthorized', `token expired or revoked (4401) ${reason}`));
        stopped = !this.options.canRefreshToken;
        break;
      case CloseCode.rateLimited:
        this.handlers.onError(new ClientError('rate_limited', 'closed for sending too much (4429)'));
        this.attempt = Math.max(this.attempt, 4); // wait seconds, not milliseconds
        break;
      case CloseCode.tooBig:
        this.handlers.onError(new ClientError('too_large', 'the server refused a frame as too big (1009)'));
        break;
    }
    if (stopped) this.running = false;
    this.down(stopped);
    if (!stopped) this.scheduleReconnect();
  }

  private down(stopped: boolean): void {
    // Answers to requests already written would come on the dead socket: fail them now.
    const error = stopped
      ? new ClientError('closed', 'the connection was closed and will not reconnect')
      : new ClientError('disconnected', 'the connection dropped before the answer');
    for (const [reqId, r] of this.requests) if (r.written || stopped) this.settle(reqId, r, error);
    this.handlers.onDown(stopped);
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    const delay = reconnectDelay(this.attempt++, this.options.backoff, this.options.random);
    this.reconnectTimer = this.options.clock.setTimeout(() => void this.open(), delay);
  }

  /** Forgets the current socket (its late events are ignored) and closes it if asked to. */
  private detach(code?: number, reason?: string): void {
    const socket = this.socket;
    this.socket = undefined;
    this.welcomed = false;
    this.clearTimer('connectTimer');
    this.clearTimer('heartbeatTimer');
    if (socket && code !== undefined) {
      try {
        socket.close(code, reason);
      } catch {
        // already closing
      }
    }
  }

  private settle(reqId: string, r: PendingRequest, error?: ClientError, answer?: ServerFrame): void {
    this.requests.delete(reqId);
    this.options.clock.clearTimeout(r.timer);
    if (error) r.reject(error);
    else r.resolve(answer!);
  }

  private clearTimer(name: 'reconnectTimer' | 'connectTimer' | 'heartbeatTimer'): void {
    const timer = this[name];
    if (timer !== undefined) this.options.clock.clearTimeout(timer);
    this[name] = undefined;
  }
}
