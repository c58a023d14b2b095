/**
 * The fault schedule of a chaos run: a pure function of (seed, profile), printed at the start
 * so that a run can be replayed with `--seed`. Execution timing is real time, so a replay
 * repeats the same faults at the same offsets against the same simulated workload shape.
 */

export const FAULT_KINDS = [
  'kill9', // kill -9 one service instance, restart it
  'rolling', // SIGTERM rolling restart of every instance of one service
  'kafka', // restart the Kafka broker (graceful stop or kill -9, then start)
  'redis-flush', // FLUSHALL
  'redis-restart', // shutdown nosave, start again (empty)
  'pg-restart', // restart the PostgreSQL cluster
  'client-drop', // drop some clients' sockets mid-send; they reconnect to the other gateway
  'no-deliver-ack', // some devices stop sending deliver_ack for a while
  'resend-early', // some devices resend every send frame well before the 1 s ladder step
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const SERVICE_NAMES = ['sequencer', 'storage', 'delivery', 'gateway'] as const;
export type ChaosService = (typeof SERVICE_NAMES)[number];

export interface FaultEvent {
  /** Position in the schedule, from 1. */
  id: number;
  /** Offset from the start of the fault window, ms. */
  at: number;
  kind: FaultKind;
  /** kill9 / rolling: which service (and for kill9 which instance). */
  service?: ChaosService;
  instance?: number;
  /** kafka: 'term' (kafka.sh stop) or 'kill9' (kill -9 of the broker JVM). */
  mode?: 'term' | 'kill9';
  /** How long the dependency/instance stays down, or a client fault lasts, ms. */
  downMs: number;
  /** client faults: fraction of devices affected. */
  fraction?: number;
  /** Seed for the fault's own random choices (which devices). */
  salt: number;
}

/** mulberry32: small, fast, seedable; good enough to pick faults and pace clients. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScheduleSpec {
  /** Faults of each kind. */
  perKind: Record<FaultKind, number>;
  /** The window the faults' start times are spread over, ms. */
  windowMs: number;
  instancesPerService: number;
  /**
   * Kinds held to a stretch of the window, as fractions [from, to]: a short run's single fault of
   * a kind can otherwise land where the load has already wound down (it is aimed at 85 % of the
   * window and queued faults start late).
   */
  within?: Partial<Record<FaultKind, readonly [number, number]>>;
}

/**
 * Spreads `perKind[k]` faults of each kind over the window: each kind gets evenly spaced
 * slots with a random jitter, so kinds interleave and often overlap (a Kafka restart during
 * a sequencer kill, a client drop during a PostgreSQL restart), while faults of the same
 * resource are serialized by the runner.
 */
export function buildSchedule(seed: number, spec: ScheduleSpec): FaultEvent[] {
  const random = prng(seed);
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const events: Omit<FaultEvent, 'id'>[] = [];
  for (const kind of FAULT_KINDS) {
    const n = spec.perKind[kind];
    const [from, to] = spec.within?.[kind] ?? [0, 1];
    const slot = ((to - from) * spec.windowMs) / Math.max(1, n);
    for (let i = 0; i < n; i++) {
      const at = Math.round(from * spec.windowMs + slot * i + random() * slot * 0.9);
      const salt = Math.floor(random() * 2 ** 31);
      const service = SERVICE_NAMES[(i + Math.floor(random() * 4)) % SERVICE_NAMES.length];
      switch (kind) {
        case 'kill9':
          events.push({
            at,
            kind,
            service,
            instance: between(0, spec.instancesPerService - 1),
            downMs: between(200, 3000),
            salt,
          });
          break;
        case 'rolling':
          // Cycle through the services so each one gets its share of rolling restarts.
          events.push({ at, kind, service: SERVICE_NAMES[i % SERVICE_NAMES.length], downMs: 0, salt });
          break;
        case 'kafka':
          events.push({
            at,
            kind,
            mode: random() < 0.5 ? 'term' : 'kill9',
            downMs: between(500, 3000),
            salt,
          });
          break;
        case 'redis-flush':
          events.push({ at, kind, downMs: 0, salt });
          break;
        case 'redis-restart':
          // Long enough that ioredis gives up on queued commands and sends are refused
          // (issue 12's order defect needed a refusal; a 0.7 s restart refused nothing).
          events.push({ at, kind, downMs: between(2500, 5000), salt });
          break;
        case 'pg-restart':
          events.push({ at, kind, downMs: between(300, 3000), salt });
          break;
        case 'client-drop':
          events.push({ at, kind, downMs: 0, fraction: 0.1 + random() * 0.3, salt });
          break;
        case 'no-deliver-ack':
        case 'resend-early':
          events.push({ at, kind, downMs: between(3000, 12000), fraction: 0.1 + random() * 0.2, salt });
          break;
      }
    }
  }
  events.sort((a, b) => a.at - b.at || FAULT_KINDS.indexOf(a.kind) - FAULT_KINDS.indexOf(b.kind));
  return events.map((e, i) => ({ id: i + 1, ...e }));
}

/**
 * The plan of `npm run bench:availability`, one fault at a time: a SIGTERM rolling restart of
 * every service (a deploy), a kill -9 of one instance of each (a crash, restarted 1 s later as
 * a supervisor would), and a broker restart. `at` is unused: the runner chains them.
 */
export function availabilityPlan(): FaultEvent[] {
  const events: Omit<FaultEvent, 'id'>[] = [
    ...SERVICE_NAMES.map((service) => ({ at: 0, kind: 'rolling' as const, service, downMs: 0, salt: 0 })),
    ...SERVICE_NAMES.map((service) => ({
      at: 0,
      kind: 'kill9' as const,
      service,
      instance: 0,
      downMs: 1000,
      salt: 0,
    })),
    { at: 0, kind: 'kafka', mode: 'term', downMs: 3000, salt: 0 },
  ];
  return events.map((e, i) => ({ id: i + 1, ...e }));
}

export function describeFault(e: FaultEvent): string {
  switch (e.kind) {
    case 'kill9':
      return `kill -9 ${e.service}#${e.instance}, down ${e.downMs} ms`;
    case 'rolling':
      return `SIGTERM rolling restart of ${e.service}`;
    case 'kafka':
      return `Kafka broker ${e.mode === 'kill9' ? 'kill -9' : 'stop'}, down ${e.downMs} ms`;
    case 'redis-flush':
      return 'Redis FLUSHALL';
    case 'redis-restart':
      return `Redis restart (empty), down ${e.downMs} ms`;
    case 'pg-restart':
      return `PostgreSQL restart, down ${e.downMs} ms`;
    case 'client-drop':
      return `drop ${Math.round((e.fraction ?? 0) * 100)}% of clients mid-send`;
    case 'no-deliver-ack':
      return `${Math.round((e.fraction ?? 0) * 100)}% of devices stop deliver_ack for ${e.downMs} ms`;
    case 'resend-early':
      return `${Math.round((e.fraction ?? 0) * 100)}% of devices resend early for ${e.downMs} ms`;
  }
}

/** Resources a fault holds: faults sharing one run one after the other. */
export function faultResource(e: FaultEvent): string {
  switch (e.kind) {
    case 'kill9':
    case 'rolling':
      return `service:${e.service}`;
    case 'redis-flush':
    case 'redis-restart':
      return 'redis';
    case 'pg-restart':
      return 'pg';
    default:
      return e.kind;
  }
}

/** Infrastructure faults (as opposed to client behaviour); the runner caps how many overlap. */
export const isInfrastructureFault = (e: FaultEvent): boolean =>
  !['client-drop', 'no-deliver-ack', 'resend-early'].includes(e.kind);
