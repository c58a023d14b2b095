import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- frames from the wire, asserted field by field
export type Frame = Record<string, any> & { type: string };

/** A protocol client for tests: records every frame, answers nothing by itself but pings. */
export class TestClient {
  readonly frames: Frame[] = [];
  closeCode?: number;
  private waiters: { predicate: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private pinger?: NodeJS.Timeout;
  private closed: Promise<number>;

  private constructor(
    readonly ws: WebSocket,
    readonly userId: string,
    readonly deviceId: string,
  ) {
    ws.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => (w.predicate(frame) ? (w.resolve(frame), false) : true));
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        clearInterval(this.pinger);
        resolve(code);
      }),
    );
  }

  static async connect(
    baseUrl: string,
    token: string,
    userId: string,
    deviceId: string,
    options: { ping?: boolean; auth?: 'query' | 'header' } = {},
  ): Promise<TestClient> {
    const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws?deviceId=${encodeURIComponent(deviceId)}`;
    const ws =
      options.auth === 'header'
        ? new WebSocket(wsUrl, { headers: { Authorization: `Bearer ${token}` } })
        : new WebSocket(`${wsUrl}&token=${encodeURIComponent(token)}`);
    const client = new TestClient(ws, userId, deviceId);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    const welcome = await client.next((f) => f.type === 'welcome');
    if (options.ping !== false) {
      client.pinger = setInterval(
        () => client.sendRaw({ type: 'ping' }),
        Math.max(100, welcome.heartbeatMs / 3),
      );
    }
    return client;
  }

  sendRaw(frame: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a text message and returns its clientMsgId. */
  send(conversationId: string, text: string, clientMsgId: string = randomUUID()): string {
    this.sendRaw({ type: 'send', clientMsgId, conversationId, contentType: 'text', body: { text } });
    return clientMsgId;
  }

  /** The first recorded or future frame matching the predicate. */
  next(predicate: (f: Frame) => boolean, timeoutMs = 15_000, from = 0): Promise<Frame> {
    const found = this.frames.slice(from).find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`),
        );
      }, timeoutMs);
      const done = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.waiters.push({ predicate, resolve: done });
    });
  }

  ackOf(clientMsgId: string, timeoutMs?: number) {
    return this.next(
      (f) =>
        (f.type === 'ack' || f.type === 'error') && (f.clientMsgId === clientMsgId || f.ref === clientMsgId),
      timeoutMs,
    );
  }

  /** Sends a request with a fresh reqId and waits for its answer (result or error). */
  async request(frame: Frame, timeoutMs?: number): Promise<Frame> {
    const reqId = frame.reqId ?? randomUUID();
    const from = this.frames.length;
    this.sendRaw({ ...frame, reqId });
    return this.next((f) => f.reqId === reqId || f.ref === reqId, timeoutMs, from);
  }

  /** Waits until `count` frames match, and returns them. */
  async collect(predicate: (f: Frame) => boolean, count: number, timeoutMs = 20_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.filter(predicate).length < count) {
      if (Date.now() > deadline)
        throw new Error(
          `only ${this.frames.filter(predicate).length} of ${count} frames within ${timeoutMs} ms`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.frames.filter(predicate);
  }

  messages(conversationId?: string): Frame[] {
    return this.frames.filter(
      (f) => f.type === 'message' && (!conversationId || f.conversationId === conversationId),
    );
  }

  waitClosed(): Promise<number> {
    return this.closed;
  }

  close(): void {
    clearInterval(this.pinger);
    this.ws.close();
  }
}
