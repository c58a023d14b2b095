import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { CLIENT_FRAME_CLASSES, ClientFrame, ClientFrameType } from './client-frames';
import { ProtocolError } from './errors';
import { checkFrameRules } from './frame-rules';
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
 * Pure: no I/O, so every rule of docs/protocol.md §3 is unit-testable.
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
    // The same copy alters bodies; a body is stored as the client sent it.
    if (frame.type === 'send' || frame.type === 'edit') frame.body = object.body as Record<string, unknown>;
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
