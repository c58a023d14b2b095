import type { ClientFrame } from './client-frames';
import { ProtocolError } from './errors';
import { ENTITY_ID_PATTERN } from './identifiers';

/**
 * PostgreSQL's jsonb refuses NUL characters and lone UTF-16 surrogates: such a body would be
 * accepted into Kafka and then fail storage forever, so it is refused at the edge.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function findUnstorableString(value: unknown, depth = 0): string | undefined {
  if (depth > 64) return 'nesting deeper than 64 levels';
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return 'a NUL character';
    if (LONE_SURROGATE.test(value)) return 'a lone UTF-16 surrogate';
    return undefined;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findUnstorableString(item, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = findUnstorableString(key, depth + 1) ?? findUnstorableString(item, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** Whether any object in `value` has an own key `key`; iterative, depth was bounded before. */
function hasKeyNamed(value: unknown, key: string): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (!Array.isArray(item) && Object.hasOwn(item, key)) return true;
    for (const child of Object.values(item)) stack.push(child);
  }
  return false;
}

/** A reaction's emoji, in Unicode code points. */
export const EMOJI_MAX = 32;

/**
 * The rules of a message body beyond being an object: its size, what PostgreSQL can store,
 * and for `text` (when the content type is known) a non-empty `body.text`.
 */
export function checkBody(
  body: Record<string, unknown>,
  contentType: string | undefined,
  maxBodyBytes: number,
): ProtocolError | undefined {
  const size = Buffer.byteLength(JSON.stringify(body));
  if (size > maxBodyBytes)
    return new ProtocolError('too_large', `body is ${size} bytes; the limit is ${maxBodyBytes}`);
  if (hasKeyNamed(body, '__proto__'))
    return new ProtocolError(
      'bad_request',
      "body must not contain the key __proto__ (clients that copy it would change an object's prototype)",
    );
  const unstorable = findUnstorableString(body);
  if (unstorable !== undefined)
    return new ProtocolError('bad_request', `body contains ${unstorable}, which cannot be stored`);
  if (contentType === 'text') {
    const text = body.text;
    if (typeof text !== 'string' || text.length === 0)
      return new ProtocolError('bad_request', 'a text message needs body.text, a non-empty string');
  }
  return undefined;
}

/** The rules of docs/protocol.md §3 that a frame's class cannot say: body size and storability, sync cursors, history's one bound. */
export function checkFrameRules(frame: ClientFrame, maxBodyBytes: number): ProtocolError | undefined {
  switch (frame.type) {
    case 'send':
      return checkBody(frame.body, frame.contentType, maxBodyBytes);
    case 'edit':
      // The rules of the target's content type are the gateway's to check: it knows the target.
      return checkBody(frame.body, undefined, maxBodyBytes);
    case 'react': {
      const length = [...frame.emoji].length;
      if (length < 1 || length > EMOJI_MAX || /\s/u.test(frame.emoji))
        return new ProtocolError('bad_request', `emoji must be 1-${EMOJI_MAX} characters without whitespace`);
      return findUnstorableString(frame.emoji)
        ? new ProtocolError('bad_request', 'emoji contains a character that cannot be stored')
        : undefined;
    }
    case 'sync': {
      for (const [conversationId, afterSeq] of Object.entries(frame.cursors ?? {})) {
        if (!ENTITY_ID_PATTERN.test(conversationId))
          return new ProtocolError(
            'bad_request',
            `cursors has an invalid conversation id ${JSON.stringify(conversationId)}`,
          );
        if (typeof afterSeq !== 'number' || !Number.isSafeInteger(afterSeq) || afterSeq < 0)
          return new ProtocolError('bad_request', `cursors.${conversationId} must be a non-negative integer`);
      }
      return undefined;
    }
    case 'history': {
      const hasAfter = frame.afterSeq !== undefined;
      const hasBefore = frame.beforeSeq !== undefined;
      if (hasAfter === hasBefore)
        return new ProtocolError('bad_request', 'history needs exactly one of afterSeq and beforeSeq');
      return undefined;
    }
    default:
      return undefined;
  }
}
