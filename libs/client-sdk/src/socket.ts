// A method-derived function type is checked bivariantly, so that the browser's WebSocket and
// the `ws` package's (whose handlers take their own richer event classes) both fit SocketLike.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the browser WebSocket API the client uses; `ws`'s WebSocket fits it as well. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

export type SocketFactory = (url: string) => SocketLike;

/** WebSocket.OPEN */
export const SOCKET_OPEN = 1;

type SocketConstructor = new (url: string) => SocketLike;

/** The runtime's WebSocket (browsers, Node ≥ 22), or undefined (Node 20 without a flag). */
export function globalWebSocket(): SocketConstructor | undefined {
  return (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
}

/** Text of a message event: the server sends only text frames. */
export function frameText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return String(data);
}
