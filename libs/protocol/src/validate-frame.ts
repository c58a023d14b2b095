import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { CLIENT_FRAME_CLASSES, ClientFrame, ClientFrameType } from './client-frames';
import { ENTITY_ID_PATTERN } from './identifiers';
import { ProtocolError } from './errors';
import { acceptHotFrame } from './hot-frames';

const MAX_NESTING = 32;

/** Depth of nested arrays and objects, counted without recursion; stops once past `limit`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, level]);
  }
  return deepest;
}

export type FrameParseResult =
  { ok: true; frame: ClientFrame } | { ok: false; ref?: string; error: ProtocolError };

const refOf = (raw: Record<string, unknown>): string | undefined => {
  for (const key of ['clientMsgId', 'reqId']) {
    const value = raw[key];
    if (typeof value === 'string' && value.length > 0 && value.length <= 64) return value;
  }
  return undefined;
};

const describe = (errors: ValidationError[]): string =>
  errors
    .flatMap((e) => Object.values(e.constraints ?? {}))
    .map((m) => m.replace(/^property (\S+) should not exist$/, 'unknown field $1'))
    .join('; ');

/**
 * Turns one text frame into a validated client frame, or into the error to answer with.
 * Pure: no I/O, so every rule of PROTOCOL §3 is unit-testable.
 */
export function parseClientFrame(text: string, maxBodyBytes: number): FrameParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: new ProtocolError('bad_request', 'frame is not valid JSON') };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: new ProtocolError('bad_request', 'frame must be a JSON object') };
  }
  const object = raw as Record<string, unknown>;
  const ref = refOf(object);
  // Checked before any recursive library sees the frame: deep nesting must not overflow the stack.
  if (nestingDepth(object, MAX_NESTING) > MAX_NESTING)
    return {
      ok: false,
      ref,
      error: new ProtocolError('bad_request', `frame is nested deeper than ${MAX_NESTING} levels`),
    };
  const nullField = Object.keys(object).find((k) => object[k] === null);
  if (nullField)
    return { ok: false, ref, error: new ProtocolError('bad_request', `${nullField} must not be null`) };
  // JSON.parse makes these own keys, but class-transformer skips them, so whitelisting would not see them.
  const poisoned = Object.keys(object).find(
    (k) => k === '__proto__' || k === 'constructor' || k === 'prototype',
  );
  if (poisoned)
    return { ok: false, ref, error: new ProtocolError('bad_request', `unknown field ${poisoned}`) };
  const type = object.type;
  if (typeof type !== 'string' || !Object.hasOwn(CLIENT_FRAME_CLASSES, type)) {
    return {
      ok: false,
      ref,
      error: new ProtocolError('bad_request', `unknown frame type ${JSON.stringify(type)}`),
    };
  }
  let frame = acceptHotFrame(object);
  if (!frame) {
    const checked = validateWithClasses(type as ClientFrameType, object);
    if (!checked.ok) return { ok: false, ref, error: checked.error };
    frame = checked.frame;
    // class-transformer's copy of the cursors drops keys named like Object.prototype members
    // (`constructor`, `__proto__`, ...); every entry of the client's own object is checked below.
    if (frame.type === 'sync' && typeof object.cursors === 'object' && !Array.isArray(object.cursors))
      frame.cursors = object.cursors as Record<string, number>;
  }

  const extra = checkFrameRules(frame, maxBodyBytes);
  if (extra) return { ok: false, ref, error: extra };
  return { ok: true, frame };
}

/** The frame's class decides: class-transformer builds it, class-validator checks every field. */
export function validateWithClasses(
  type: ClientFrameType,
  object: Record<string, unknown>,
): { ok: true; frame: ClientFrame } | { ok: false; error: ProtocolError } {
  const cls = CLIENT_FRAME_CLASSES[type];
  const frame = plainToInstance(cls as new () => ClientFrame, object);
  const errors = validateSync(frame, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  if (errors.length > 0) return { ok: false, error: new ProtocolError('bad_request', describe(errors)) };
  return { ok: true, frame };
}

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

function checkFrameRules(frame: ClientFrame, maxBodyBytes: number): ProtocolError | undefined {
  switch (frame.type) {
    case 'send': {
      const size = Buffer.byteLength(JSON.stringify(frame.body));
      if (size > maxBodyBytes)
        return new ProtocolError('too_large', `body is ${size} bytes; the limit is ${maxBodyBytes}`);
      if (hasKeyNamed(frame.body, '__proto__'))
        return new ProtocolError(
          'bad_request',
          "body must not contain the key __proto__ (clients that copy it would change an object's prototype)",
        );
      const unstorable = findUnstorableString(frame.body);
      if (unstorable !== undefined)
        return new ProtocolError('bad_request', `body contains ${unstorable}, which cannot be stored`);
      if (frame.contentType === 'text') {
        const text = frame.body.text;
        if (typeof text !== 'string' || text.length === 0)
          return new ProtocolError('bad_request', 'a text message needs body.text, a non-empty string');
      }
      return undefined;
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
