import { randomFillSync } from 'node:crypto';

/** A span's place in a trace, as W3C Trace Context's `traceparent` carries it. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZEROS = /^0+$/;

/** `00-<trace id>-<span id>-<flags>`; undefined for anything else (a malformed header starts a new trace). */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  const m = header === undefined ? null : TRACEPARENT.exec(header);
  if (!m || ZEROS.test(m[1]) || ZEROS.test(m[2])) return undefined;
  return { traceId: m[1], spanId: m[2], sampled: (parseInt(m[3], 16) & 1) === 1 };
}

export const formatTraceparent = (c: TraceContext): string =>
  `00-${c.traceId}-${c.spanId}-${c.sampled ? '01' : '00'}`;

// Ids come from a pool refilled 4 KiB at a time: one randomBytes call per id was the largest
// item of a span's cost in the profile (test/bench/README.md, Tracing).
const pool = Buffer.alloc(4096);
let used = pool.length;
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}

export const newTraceId = (): string => randomHex(16);
export const newSpanId = (): string => randomHex(8);

/**
 * Where an object (a Kafka event, a frame) carries its trace context through the services:
 * a symbol, so JSON never serializes it (the Kafka header and the bus envelope carry it on the
 * wire) while object spreads that derive the next event copy it along.
 */
export const TRACE = Symbol.for('im.trace');
export type Traced = { [TRACE]?: string };

export const traceparentOf = (o: object): string | undefined => (o as Traced)[TRACE];

export function setTraceparent<T extends object>(o: T, traceparent: string | undefined): T {
  if (traceparent !== undefined) (o as Traced)[TRACE] = traceparent;
  return o;
}
