import { PROTOCOL_ERROR_CODES, type ProtocolErrorCode } from './protocol';

/** Codes the client itself produces, beside the server's codes. */
export type LocalErrorCode =
  /** A request got no answer in time, or a message was not acked within `failAfterMs`. */
  | 'timeout'
  /** The client was closed with close(). */
  | 'closed'
  /** The connection dropped before a request was answered (it was not resent). */
  | 'disconnected'
  /** The server closed with 4401, or the token provider failed. */
  | 'unauthorized'
  /** The server closed with 4409: this device connected again elsewhere. */
  | 'replaced'
  /** The outbox storage or message store failed. */
  | 'storage'
  /** retry() or discard() of a clientMsgId that is not in the outbox. */
  | 'unknown_message'
  /** The server sent something that is not a frame of the contract. */
  | 'protocol'
  /**
   * An edit, reaction or recall queued before the server's history changed epoch: its target
   * seq was read from the earlier history and may name another message now, so it is not resent.
   */
  | 'epoch_changed';

export type ClientErrorCode = ProtocolErrorCode | LocalErrorCode;

/**
 * Every error the SDK reports, as an event or a rejected promise. `code` is either the
 * server's error code (from an `error` frame or a close code) or a local one.
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** The clientMsgId or reqId the error is about, when there is one. */
    readonly ref?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /**
   * True when the same operation may succeed later: `unavailable`, `internal`,
   * `rate_limited`, timeouts, transport and storage trouble. The server's `bad_request`,
   * `forbidden`, `not_found`, `too_large` and `rejected` "will not change on retry" (README).
   */
  get retryable(): boolean {
    return !PERMANENT.has(this.code);
  }
}

const PERMANENT: ReadonlySet<ClientErrorCode> = new Set<ClientErrorCode>([
  'bad_request',
  'forbidden',
  'not_found',
  'too_large',
  'rejected',
  'closed',
  'replaced',
  'unknown_message',
  // Not "will not change", but a blind retry could edit or recall another message.
  'epoch_changed',
]);

export function isProtocolErrorCode(code: unknown): code is ProtocolErrorCode {
  return typeof code === 'string' && (PROTOCOL_ERROR_CODES as readonly string[]).includes(code);
}

/** Wraps anything thrown by pluggable code (storage, token provider) as a ClientError. */
export function asClientError(error: unknown, code: ClientErrorCode, message: string): ClientError {
  if (error instanceof ClientError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ClientError(code, `${message}: ${detail}`, undefined, { cause: error });
}
