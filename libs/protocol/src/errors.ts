/** The error codes of the `error` frame (docs/protocol.md §4). */
export const ERROR_CODES = [
  'bad_request',
  'forbidden',
  'not_found',
  'too_large',
  'rate_limited',
  'unavailable',
  'rejected',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A failure that becomes an `error` frame; anything else thrown becomes `internal`. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** WebSocket close codes (docs/protocol.md §2). */
export const CloseCode = {
  goingAway: 1001,
  tooBig: 1009,
  unauthorized: 4401,
  forbidden: 4403,
  heartbeatTimeout: 4408,
  replaced: 4409,
  rateLimited: 4429,
} as const;
