import type { ClientFrame } from './client-frames';
import { MAX_SEQ, MENTIONS_MAX, SEND_CONTENT_TYPES } from './content-types';
import { CLIENT_ID_PATTERN, ENTITY_ID_PATTERN } from './identifiers';

/**
 * Hand-written checks of the frames a chat sends most: `send` (replies and mentions too), `deliver_ack`, `read`,
 * `typing` and `ping`. They only ever accept, never refuse: a frame they accept is one the
 * class-validator path accepts with the same fields (`hot-frames.spec.ts` compares both over
 * a corpus of valid and broken frames), and anything they do not accept takes that path,
 * which words the error. class-transformer and class-validator cost the gateway more CPU per
 * frame than the rest of the frame's checks together.
 *
 * One difference, on purpose: a `send` body is taken as it came. class-transformer copies
 * nested objects and drops keys named like Object.prototype's members (`toString`,
 * `valueOf`, ...), or throws on `constructor`, so such bodies were altered or answered
 * `internal`; `__proto__` is refused on both paths (`checkFrameRules`).
 */
export function acceptHotFrame(frame: Record<string, unknown>): ClientFrame | undefined {
  switch (frame.type) {
    case 'send':
      return hasOnly(frame, SEND_KEYS, SEND_OPTIONAL_KEYS) &&
        isClientId(frame.clientMsgId) &&
        isEntityId(frame.conversationId) &&
        (SEND_CONTENT_TYPES as readonly unknown[]).includes(frame.contentType) &&
        isPlainObject(frame.body) &&
        (frame.replyTo === undefined || (isSeq(frame.replyTo) && frame.replyTo !== 0)) &&
        (frame.mentions === undefined || isMentions(frame.mentions))
        ? (frame as unknown as ClientFrame)
        : undefined;
    case 'deliver_ack':
    case 'read':
      return hasOnly(frame, CURSOR_KEYS) && isEntityId(frame.conversationId) && isSeq(frame.seq)
        ? (frame as unknown as ClientFrame)
        : undefined;
    case 'typing':
      return hasOnly(frame, TYPING_KEYS) && isEntityId(frame.conversationId)
        ? (frame as unknown as ClientFrame)
        : undefined;
    case 'ping':
      return hasOnly(frame, PING_KEYS) ? (frame as unknown as ClientFrame) : undefined;
    default:
      return undefined;
  }
}

const SEND_KEYS = new Set(['type', 'clientMsgId', 'conversationId', 'contentType', 'body']);
const SEND_OPTIONAL_KEYS = new Set(['replyTo', 'mentions']);
const CURSOR_KEYS = new Set(['type', 'conversationId', 'seq']);
const TYPING_KEYS = new Set(['type', 'conversationId']);
const PING_KEYS = new Set(['type']);

/** Every required key present and no other but the optional ones (the class path whitelists and forbids the rest). */
function hasOnly(
  frame: Record<string, unknown>,
  keys: ReadonlySet<string>,
  optional: ReadonlySet<string> = NONE,
): boolean {
  let n = 0;
  for (const key in frame) {
    if (!Object.hasOwn(frame, key)) return false;
    if (keys.has(key)) n++;
    else if (!optional.has(key)) return false;
  }
  return n === keys.size;
}
const NONE: ReadonlySet<string> = new Set();

/** 1 to MENTIONS_MAX distinct user ids. */
function isMentions(v: unknown): boolean {
  if (!Array.isArray(v) || v.length < 1 || v.length > MENTIONS_MAX) return false;
  return v.every(isEntityId) && new Set(v).size === v.length;
}

const isClientId = (v: unknown) => typeof v === 'string' && CLIENT_ID_PATTERN.test(v);
const isEntityId = (v: unknown) => typeof v === 'string' && ENTITY_ID_PATTERN.test(v);
const isSeq = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_SEQ;
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
