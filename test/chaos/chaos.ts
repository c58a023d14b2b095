/**
 * `npm run chaos` (profile full) and the short profile of `npm test`
 * (test/e2e/chaos-short.e2e-spec.ts): the fault-injection suite.
 *
 * Starts the real stack as separate processes, two instances of every service, on a fresh
 * database and fresh Kafka topics; drives simulated users through the client SDK in direct
 * and group conversations while a seeded fault schedule breaks things; then waits for
 * convergence and lets the independent checker (checker.ts) judge from the devices' logs
 * and the database. Prints progress and a summary; writes .local/chaos/<seed>.json.
 *
 *   node -r tsconfig-paths/register dist/test/chaos/chaos.js --profile short|full
 *        [--seed N] [--messages N] [--min-messages N] [--faults N (per kind)] [--window-ms N] [--max-pending N] [--client kafkajs|platformatic] [--echo]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { LocalStack, ROOT, type ServiceInstance, type ServiceName } from '../../docker/local/stack';
import { TestContext, type TestUser } from '../support/context';
import { dropRun, freePortBase } from '../support/own-stack';
import type { KafkaClientName } from '@im/messaging';
import { describeStack } from '../support/stack-info';
import { check, DeliveryWatch, type CheckReport, type MessageRef } from './checker';
import { flushCluster, killMaster, manualFailover, startRedisCluster } from '../support/redis-cluster';
import * as deps from './dependencies';
import { firstAfterEnd, gapsByKind, longestGap, longestWait, type FaultGaps } from './gaps';
import {
  availabilityPlan,
  buildSchedule,
  describeFault,
  FAULT_KINDS,
  faultResource,
  isInfrastructureFault,
  prng,
  type FaultEvent,
  type FaultKind,
  type ScheduleSpec,
} from './fault-schedule';
import { SimulatedDevice, type SendBudget } from './simulated-device';
import {
  checkTargetViews,
  type ReactionView,
  type StandingView,
  type TargetViewReport,
} from './target-views';

export interface Profile {
  name: string;
  users: number;
  /** Each user has 1..maxDevices devices. */
  maxDevices: number;
  directPerUser: number;
  groups: number;
  groupSize: [number, number];
  messages: number;
  /** The run fails if fewer messages than this were sent: a run the faults starved proves little. */
  minMessages: number;
  faultsPerKind: number;
  windowMs: number;
  /** Devices that never send deliver_ack during the whole run. */
  neverAckDevices: number;
  /** Unacked sends a device keeps before it waits. */
  maxPending: number;
  /** The run fails if devices have not converged this long after the last fault. */
  convergenceLimitMs: number;
  /** How long to wait for convergence before giving up (to report what is missing). */
  convergenceTimeoutMs: number;
  /** At most this many infrastructure faults at once. */
  maxConcurrentInfraFaults: number;
  /** Kinds held to a stretch of the window (fractions), see `ScheduleSpec.within`. */
  faultWithin?: ScheduleSpec['within'];
  /** At each Redis restart, this many devices send a pair of messages into the outage. */
  redisRestartPairs: number;
  /**
   * A fixed plan instead of the seeded random schedule: the faults run one after another,
   * each `settleMs` after the one before ended, while the load stays at `ratePerSecond`.
   * Their gaps are then each fault's own (`npm run bench:availability`).
   */
  sequence?: { faults: FaultEvent[]; settleMs: number; ratePerSecond: number };
}

export const PROFILES: Record<ProfileName, Profile> = {
  short: {
    name: 'short',
    users: 24,
    maxDevices: 2,
    directPerUser: 1,
    groups: 4,
    groupSize: [3, 6],
    messages: 3000,
    minMessages: 500,
    faultsPerKind: 1,
    windowMs: 70_000,
    neverAckDevices: 2,
    maxPending: 10,
    convergenceLimitMs: 30_000,
    convergenceTimeoutMs: 60_000,
    maxConcurrentInfraFaults: 2,
    // The one Redis restart is due between 7 s and 34 s, well before the load is aimed to end
    // (60 s), so that even queued behind two other infrastructure faults it meets live load.
    faultWithin: { 'redis-restart': [0.1, 0.52] },
    redisRestartPairs: 4,
  },
  full: {
    name: 'full',
    users: 80,
    maxDevices: 2,
    directPerUser: 2,
    groups: 16,
    groupSize: [3, 10],
    // Aimed above 100,000 because the faults stall the load: the kill -9s and broker restarts
    // stop partitions for a session timeout. These are the settings of the passing run of record
    // (README), about 28 min on 2 cores.
    messages: 125_000,
    minMessages: 100_000,
    faultsPerKind: 20,
    windowMs: 25 * 60_000,
    neverAckDevices: 4,
    maxPending: 60,
    convergenceLimitMs: 30_000,
    convergenceTimeoutMs: 180_000,
    maxConcurrentInfraFaults: 2,
    redisRestartPairs: 4,
  },
  availability: {
    name: 'availability',
    users: 40,
    maxDevices: 2,
    directPerUser: 1,
    groups: 6,
    groupSize: [3, 8],
    // Not aimed at a count: the load is a fixed rate for as long as the faults take.
    messages: 1_000_000,
    minMessages: 5_000,
    faultsPerKind: 0,
    windowMs: 0,
    neverAckDevices: 0,
    maxPending: 20,
    convergenceLimitMs: 30_000,
    convergenceTimeoutMs: 120_000,
    maxConcurrentInfraFaults: 1,
    redisRestartPairs: 0,
    sequence: { faults: availabilityPlan(), settleMs: 10_000, ratePerSecond: 200 },
  },
};

export type ProfileName = 'short' | 'full' | 'availability';

export interface ChaosOptions {
  profile: ProfileName;
  seed?: number;
  messages?: number;
  minMessages?: number;
  faultsPerKind?: number;
  windowMs?: number;
  /** Unacked sends a device keeps before it waits (more keeps the load up through stalls). */
  maxPending?: number;
  /** The services' Kafka client (KAFKA_CLIENT); the services' default when unset. */
  client?: KafkaClientName;
  /** Echo the services' output. */
  echo?: boolean;
  log?: (line: string) => void;
  /**
   * Run on the local Redis Cluster (docker/local/redis-cluster.sh) instead of the machine's
   * Redis: a Redis restart is then a master's failover (kill -9 of the master, or CLUSTER
   * FAILOVER on its replica, alternately), a flush is FLUSHALL on every master.
   */
  redisCluster?: boolean;
}

export interface FaultRecord extends FaultGaps {
  id: number;
  kind: FaultKind;
  description: string;
  scheduledAtMs: number;
  startedAtMs?: number;
  endedAtMs?: number;
  error?: string;
  /** redis-restart: the load it met (G3's order after a refusal is only tested by sends in flight). */
  redis?: RedisRestartLoad;
  /** From the fault's end (a restarted broker answering, a restarted instance ready) to the next ack. */
  ackAfterEndMs?: number;
}

export interface RedisRestartLoad {
  /** Unacked sends (all devices' outboxes) when Redis was stopped. */
  unackedAtStop: number;
  /** Sends made while it was down, the pairs included. */
  sentWhileDown: number;
  /** Devices that sent a pair (two sends to one conversation, 26 ms apart) into the outage. */
  pairs: number;
  /** Unacked sends when it was started again. */
  unackedAtStart: number;
}

export interface ChaosResult {
  seed: number;
  profile: string;
  /** The machine's one Redis, or the local Redis Cluster. */
  redis: 'single' | 'cluster';
  command: string;
  passed: boolean;
  failures: string[];
  durationMs: number;
  users: number;
  devices: number;
  conversations: number;
  messagesSent: number;
  /** The fewest sends the run needed to count. */
  minMessages: number;
  faults: FaultRecord[];
  faultsByKind: Record<string, number>;
  /** Per fault kind, the largest ack gap, delivery gap and ack wait of its faults, ms. */
  gapsByKind: Partial<Record<FaultKind, { ackMs: number; deliveryMs: number; ackWaitMs: number }>>;
  /** From the end of the last fault until every device held every acked message and every outbox was empty. */
  convergenceMs: number | null;
  /** Sending went on this long after the last fault (0 when it stopped before). */
  sendingAfterLastFaultMs: number;
  check: CheckReport;
  /** Edits, reactions and recalls: each device's copy of their targets against the database. */
  targets: TargetViewReport;
  clientErrors: Record<string, number>;
  failedSends: number;
  logDir: string;
  resultFile: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The harness's own heap: it keeps every device's logs, and a starved harness looks like a stalled stack. */
const heapMb = () => Math.round(process.memoryUsage().heapUsed / 1048576);

/** A mutex per resource, plus a counting semaphore for infrastructure faults. */
class Locks {
  private readonly tails = new Map<string, Promise<void>>();
  private infraRunning = 0;
  private readonly infraWaiters: (() => void)[] = [];
  constructor(private readonly maxInfra: number) {}

  async with<T>(resource: string, infra: boolean, body: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(resource) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.tails.set(
      resource,
      previous.then(() => mine),
    );
    await previous;
    try {
      if (infra) await this.acquireInfra();
      try {
        return await body();
      } finally {
        if (infra) this.releaseInfra();
      }
    } finally {
      release();
    }
  }

  private async acquireInfra(): Promise<void> {
    if (this.infraRunning < this.maxInfra) {
      this.infraRunning++;
      return;
    }
    await new Promise<void>((r) => this.infraWaiters.push(r));
  }

  private releaseInfra(): void {
    const next = this.infraWaiters.shift();
    if (next) next();
    else this.infraRunning--;
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const base = PROFILES[options.profile];
  const profile: Profile = {
    ...base,
    messages: options.messages ?? base.messages,
    // A smaller --messages lowers the bar with it (faults cost a run a share of its target).
    minMessages:
      options.minMessages ??
      (options.messages === undefined
        ? base.minMessages
        : Math.min(base.minMessages, Math.floor(options.messages * 0.75))),
    faultsPerKind: options.faultsPerKind ?? base.faultsPerKind,
    windowMs: options.windowMs ?? base.windowMs,
    maxPending: options.maxPending ?? base.maxPending,
  };
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const seed = options.seed ?? randomBytes(4).readUInt32BE(0) % 2 ** 31;
  const command =
    `TS_NODE_BASEURL=dist node --max-old-space-size=8192 -r tsconfig-paths/register dist/test/chaos/chaos.js --profile ${profile.name} --seed ${seed}` +
    (options.messages !== undefined ? ` --messages ${options.messages}` : '') +
    (options.minMessages !== undefined ? ` --min-messages ${options.minMessages}` : '') +
    (options.faultsPerKind !== undefined ? ` --faults ${options.faultsPerKind}` : '') +
    (options.windowMs !== undefined ? ` --window-ms ${options.windowMs}` : '') +
    (options.maxPending !== undefined ? ` --max-pending ${options.maxPending}` : '') +
    (options.client !== undefined ? ` --client ${options.client}` : '') +
    (options.redisCluster ? ' --redis-cluster' : '');
  const random = prng(seed ^ 0x5eed);
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/im_chaos_${runId}`;
  const topicPrefix = `chaos-${runId}`;
  const logDir = join(ROOT, '.local', 'logs', `chaos-${runId}`);
  const resultDir = join(ROOT, '.local', 'chaos');
  const resultFile = join(resultDir, `${seed}.json`);
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

  const sequence = profile.sequence;
  const schedule =
    sequence?.faults ??
    buildSchedule(seed, {
      perKind: Object.fromEntries(FAULT_KINDS.map((k) => [k, profile.faultsPerKind])) as Record<
        FaultKind,
        number
      >,
      windowMs: profile.windowMs,
      instancesPerService: 2,
      within: profile.faultWithin,
    });
  log(`[chaos] profile ${profile.name}, seed ${seed} (replay: ${command})`);
  log(
    `[chaos] ${profile.users} users, ${profile.messages} messages, ${schedule.length} faults over ${profile.windowMs / 1000} s:`,
  );
  for (const e of schedule) log(`[chaos]   #${e.id} +${(e.at / 1000).toFixed(1)}s ${describeFault(e)}`);

  const env = {
    NODE_ENV: 'test',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    JWT_AUDIENCE: 'im',
    JWT_ISSUER: 'im-backend',
    DATABASE_URL: databaseUrl,
    REDIS_URL: 'redis://127.0.0.1:6379',
    KAFKA_BROKERS: '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: topicPrefix,
    KAFKA_PARTITIONS: '4',
    HEARTBEAT_MS: '10000',
    REPUSH_INITIAL_MS: '1000',
    REPUSH_MAX_MS: '8000',
    LOG_LEVEL: 'log',
    ...(options.client ? { KAFKA_CLIENT: options.client } : {}),
    ...(options.redisCluster ? { REDIS_CLUSTER_NODES: await startRedisCluster() } : {}),
  };
  const stack = new LocalStack({
    env,
    basePort: await freePortBase(8, 9200, 9800),
    logDir,
    instances: { gateway: 2, sequencer: 2, storage: 2, delivery: 2 },
    echo: options.echo,
  });
  const devices: SimulatedDevice[] = [];
  const faults: FaultRecord[] = schedule.map((e) => ({
    id: e.id,
    kind: e.kind,
    description: describeFault(e),
    scheduledAtMs: e.at,
  }));
  let passed = false;
  try {
    await deps.restoreAll(log);
    log(`[chaos] starting 8 service processes (logs in ${logDir}) ...`);
    await stack.start(120_000);
    log(`[chaos] stack ready after ${elapsed()}`);

    // --- the world: users, devices, conversations ---------------------------------------
    const ctx = new TestContext(describeStack(stack, env));
    const users: TestUser[] = [];
    for (let i = 0; i < profile.users; i += 8) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(8, profile.users - i) }, async () => {
          const u = await ctx.newUser('chaos');
          const t = await ctx.admin('POST', `/admin/users/${u.id}/tokens`, { ttlSeconds: 86_400 });
          return { id: u.id, token: t.body.token as string };
        }),
      );
      users.push(...batch);
    }
    const members: Record<string, string[]> = {};
    const pairs = new Set<string>();
    for (let i = 0; i < users.length; i++) {
      for (let k = 0; k < profile.directPerUser; k++) {
        const j = (i + 1 + Math.floor(random() * (users.length - 1))) % users.length;
        const pair = [users[i].id, users[j].id].sort().join('|');
        if (pairs.has(pair)) continue;
        pairs.add(pair);
        const id = await ctx.newConversation([users[i], users[j]], 'direct');
        members[id] = [users[i].id, users[j].id];
      }
    }
    for (let g = 0; g < profile.groups; g++) {
      const size =
        profile.groupSize[0] + Math.floor(random() * (profile.groupSize[1] - profile.groupSize[0] + 1));
      const chosen = new Set<TestUser>();
      while (chosen.size < Math.min(size, users.length))
        chosen.add(users[Math.floor(random() * users.length)]);
      const id = await ctx.newConversation([...chosen], 'group');
      members[id] = [...chosen].map((u) => u.id);
    }
    const conversationsOf = new Map<string, string[]>();
    for (const [id, list] of Object.entries(members))
      for (const u of list) conversationsOf.set(u, [...(conversationsOf.get(u) ?? []), id]);
    const wsGateways = stack.gatewayUrls().map((u) => u.replace(/^http/, 'ws'));
    for (const u of users) {
      const count = 1 + Math.floor(random() * profile.maxDevices);
      for (let d = 0; d < count; d++) {
        devices.push(
          new SimulatedDevice({
            userId: u.id,
            deviceId: `dev${d}-${u.id.slice(-8)}`,
            token: u.token,
            gateways: wsGateways,
            home: devices.length % wsGateways.length,
            conversations: conversationsOf.get(u.id) ?? [],
            neverDeliverAck: false,
            seed: Math.floor(random() * 2 ** 31),
          }),
        );
      }
    }
    // Never-acking devices: picked among devices whose user is in few conversations, to keep the
    // server's re-push work (which never ends for them) modest.
    const quiet = [...devices].sort(
      (a, b) => a.options.conversations.length - b.options.conversations.length,
    );
    for (const d of quiet.slice(0, profile.neverAckDevices)) d.options.neverDeliverAck = true;
    const devicesOfConversation = new Map<string, SimulatedDevice[]>();
    for (const [id, list] of Object.entries(members))
      devicesOfConversation.set(
        id,
        devices.filter((d) => list.includes(d.userId)),
      );
    await Promise.all(devices.map((d) => d.start()));
    const readyDeadline = Date.now() + 60_000;
    while (!devices.every((d) => d.ready)) {
      if (Date.now() > readyDeadline) throw new Error('devices did not all reach ready');
      await sleep(200);
    }
    log(
      `[chaos] ${users.length} users, ${devices.length} devices (${profile.neverAckDevices} never deliver_ack), ` +
        `${Object.keys(members).length} conversations; load and faults start after ${elapsed()}`,
    );

    // --- load -----------------------------------------------------------------------------
    // Each device sends at its own (random, exponential) pace; the mean gap is re-aimed every
    // 2 s at reaching the profile's message count by the end of the fault window, so time lost
    // to a stall is made up afterwards. Sending stops when the last fault is over.
    let sent = 0;
    let sendingOpen = true;
    const budget: SendBudget = {
      take: () => {
        if (!sendingOpen) return false;
        sent++;
        return true;
      },
    };
    const senders = devices.filter((d) => d.options.conversations.length > 0);
    // Aimed at 85% of the window: the last faults start near its end and take a while.
    const windowEnd = Date.now() + profile.windowMs * 0.85;
    const aimedRate = () =>
      sequence?.ratePerSecond ??
      Math.max(1, profile.messages - sent) / Math.max(2, (windowEnd - Date.now()) / 1000);
    let meanInterval =
      (senders.length / (sequence?.ratePerSecond ?? profile.messages / (profile.windowMs / 1000))) * 1000;
    const aim = setInterval(() => {
      meanInterval = Math.max(5, (senders.length / aimedRate()) * 1000);
    }, 2000);
    for (const d of senders) d.pace(() => meanInterval, profile.maxPending, budget);
    const acked = () => devices.reduce((n, d) => n + [...d.sends.values()].filter((s) => s.ack).length, 0);
    const running = new Set<string>();
    let faultsCompleted = 0;
    const loadStarted = Date.now();
    let lastTick = Date.now();
    const ticker = setInterval(() => {
      // A late tick means the harness itself was starved (GC, polling), not the stack.
      const late = Date.now() - lastTick - 5000;
      lastTick = Date.now();
      if (late > 2000) log(`[chaos ${elapsed()}] harness event loop was blocked for ${late} ms`);
      const outbox = devices.reduce((n, d) => n + d.outboxSize, 0);
      const ready = devices.filter((d) => d.ready).length;
      log(
        `[chaos ${elapsed()}] sent ${sent}/${profile.messages} acked ${acked()} outbox ${outbox} · ready ${ready}/${devices.length}` +
          ` · faults ${faultsCompleted}/${schedule.length} · heap ${heapMb()} MB` +
          (running.size ? ` · now: ${[...running].join('; ')}` : ''),
      );
    }, 5000);

    // --- faults ---------------------------------------------------------------------------
    const locks = new Locks(profile.maxConcurrentInfraFaults);
    let clusterFailovers = 0;
    const runFault = async (e: FaultEvent, record: FaultRecord) => {
      await sleep(Math.max(0, loadStarted + e.at - Date.now()));
      await locks.with(faultResource(e), isInfrastructureFault(e), async () => {
        record.startedAtMs = Date.now() - loadStarted;
        const label = `#${e.id} ${record.description}`;
        running.add(label);
        log(`[chaos ${elapsed()}] fault ${label}: start`);
        try {
          await executeFault(e, record, stack, devices, {
            budget,
            sent: () => sent,
            pairs: profile.redisRestartPairs,
            redisCluster: options.redisCluster === true,
            nextFailover: () => (clusterFailovers++ % 2 === 0 ? 'kill' : 'manual'),
            log: (line) => log(`[chaos ${elapsed()}] fault #${e.id}: ${line}`),
          });
        } catch (error) {
          record.error = String(error);
          log(`[chaos ${elapsed()}] fault ${label}: FAILED ${String(error)}`);
        } finally {
          running.delete(label);
          record.endedAtMs = Date.now() - loadStarted;
          faultsCompleted++;
          log(`[chaos ${elapsed()}] fault ${label}: done in ${record.endedAtMs - record.startedAtMs} ms`);
        }
      });
    };
    if (sequence) {
      // One at a time, on a steady load before and after each, so each gap is its fault's own.
      for (const [i, e] of schedule.entries()) {
        await sleep(sequence.settleMs);
        await runFault(e, faults[i]);
      }
      await sleep(sequence.settleMs);
    } else await Promise.all(schedule.map((e, i) => runFault(e, faults[i])));
    const lastFaultEnd = Date.now();
    sendingOpen = false;
    clearInterval(aim);
    for (const d of devices) d.stopSending();
    const sendingAfterLastFaultMs = 0;
    log(`[chaos ${elapsed()}] all faults done, ${sent} messages sent; waiting for convergence`);

    // --- convergence ----------------------------------------------------------------------
    let convergenceMs: number | null = null;
    const convergenceDeadline = Date.now() + profile.convergenceTimeoutMs;
    const watch = new DeliveryWatch((c) => devicesOfConversation.get(c) ?? []);
    for (;;) {
      const allAcks = devices.flatMap((d) =>
        [...d.sends.values()]
          .filter((s) => s.ack)
          .map((s) => ({ conversationId: s.conversationId, seq: s.ack!.seq })),
      );
      const outbox = devices.reduce((n, d) => n + d.outboxSize, 0);
      const missing = watch.missing(allAcks);
      if (outbox === 0 && missing === 0) {
        convergenceMs = Date.now() - lastFaultEnd;
        break;
      }
      if (Date.now() > convergenceDeadline) {
        log(`[chaos ${elapsed()}] NOT converged: ${outbox} unacked sends, ${missing} deliveries missing`);
        break;
      }
      await sleep(250);
    }
    clearInterval(ticker);
    if (convergenceMs !== null)
      log(`[chaos ${elapsed()}] converged ${convergenceMs} ms after the last fault`);

    // --- the checker ----------------------------------------------------------------------
    const { refs: db, views: dbViews } = await readMessages(databaseUrl, Object.keys(members));
    const deviceLogs = [];
    for (const d of devices)
      deviceLogs.push({
        userId: d.userId,
        deviceId: d.deviceId,
        received: d.received,
        timeline: await d.timelines(),
      });
    const report = check({
      members,
      devices: deviceLogs,
      connections: devices.flatMap((d) => d.connections),
      sends: devices.flatMap((d) => [...d.sends.values()]),
      db,
    });
    const deviceViews = [];
    for (const d of devices) deviceViews.push({ deviceId: d.deviceId, views: await d.standingViews() });
    const targets = checkTargetViews({ db: dbViews, devices: deviceViews });
    const clientErrors: Record<string, number> = {};
    for (const d of devices)
      for (const [code, n] of d.errors) clientErrors[code] = (clientErrors[code] ?? 0) + n;
    // Half the settle time: a send queued at the very end of a longer tail would wait through the
    // next fault, and its stall would be counted against this one.
    measureGaps(faults, devices, loadStarted, (sequence?.settleMs ?? 0) / 2);
    const faultsByKind: Record<string, number> = {};
    for (const f of faults)
      if (f.endedAtMs !== undefined && !f.error) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
    const failures: string[] = [];
    if (report.sent < profile.minMessages)
      failures.push(`${report.sent} messages sent < ${profile.minMessages} required`);
    if (report.lost > 0) failures.push(`${report.lost} lost`);
    if (report.duplicated > 0) failures.push(`${report.duplicated} duplicated`);
    if (report.outOfOrder > 0) failures.push(`${report.outOfOrder} out of order`);
    if (targets.mismatched > 0)
      failures.push(`${targets.mismatched} targets stand otherwise on a device than in the database`);
    if (convergenceMs === null) failures.push('did not converge');
    else if (convergenceMs > profile.convergenceLimitMs)
      failures.push(`converged after ${convergenceMs} ms > ${profile.convergenceLimitMs} ms`);
    const faultErrors = faults.filter((f) => f.error);
    if (faultErrors.length > 0) failures.push(`${faultErrors.length} faults could not be carried out`);
    for (const f of faults)
      if (f.redis && f.redis.unackedAtStop + f.redis.sentWhileDown === 0)
        failures.push(`Redis restart #${f.id} met no sends in flight`);
    passed = failures.length === 0;
    const result: ChaosResult = {
      seed,
      profile: profile.name,
      redis: options.redisCluster ? 'cluster' : 'single',
      command,
      passed,
      failures,
      durationMs: Date.now() - started,
      users: users.length,
      devices: devices.length,
      conversations: Object.keys(members).length,
      messagesSent: report.sent,
      minMessages: profile.minMessages,
      faults,
      faultsByKind,
      gapsByKind: gapsByKind(faults),
      convergenceMs,
      sendingAfterLastFaultMs,
      check: report,
      targets,
      clientErrors,
      failedSends: devices.reduce((n, d) => n + d.failed, 0),
      logDir,
      resultFile,
    };
    mkdirSync(resultDir, { recursive: true });
    writeFileSync(resultFile, JSON.stringify(result, null, 2));
    for (const line of summary(result)) log(line);
    return result;
  } finally {
    for (const d of devices) d.close();
    await stack.stop().catch((e) => log(`[chaos] stopping the stack: ${String(e)}`));
    await deps.restoreAll(log);
    if (options.redisCluster)
      await startRedisCluster().catch((e) =>
        log(`[chaos] WARNING: the Redis Cluster is not healthy: ${String(e)}`),
      );
    if (passed) await dropRun(topicPrefix, databaseUrl, log);
    else log(`[chaos] kept database ${databaseUrl} and topics ${topicPrefix}.* for inspection`);
  }
}

/**
 * Per fault, the longest stretch in which no ack (and no delivery of another sender's message)
 * reached any device, over the fault and the `tailMs` after it (a stall may start as the fault
 * ends: a rebalance after the restarted instance is ready).
 */
function measureGaps(faults: FaultRecord[], devices: SimulatedDevice[], loadStarted: number, tailMs: number) {
  const ascending = (a: number, b: number) => a - b;
  const acks = devices
    .flatMap((d) =>
      d.connections.flatMap((c) => c.events.flatMap((e) => (e.kind === 'ack' && e.at ? [e.at] : []))),
    )
    .sort(ascending);
  const deliveries = devices.flatMap((d) => d.deliveredAt).sort(ascending);
  const sends = devices.flatMap((d) => [...d.sends.values()]);
  const now = Date.now();
  for (const f of faults) {
    if (f.startedAtMs === undefined || f.endedAtMs === undefined) continue;
    const from = loadStarted + f.startedAtMs;
    const to = loadStarted + f.endedAtMs + tailMs;
    f.ackGapMs = longestGap(acks, from, to, now);
    f.deliveryGapMs = longestGap(deliveries, from, to, now);
    f.ackWaitMs = longestWait(sends, from, to, now);
    f.ackAfterEndMs = firstAfterEnd(acks, loadStarted + f.endedAtMs, now);
  }
}

interface LoadHandle {
  budget: SendBudget;
  /** Sends made so far. */
  sent: () => number;
  /** Devices that send a pair into each Redis outage. */
  pairs: number;
  /** Redis faults are the cluster's (see ChaosOptions.redisCluster). */
  redisCluster: boolean;
  /** How the next cluster failover is made: alternately a master's kill -9 and CLUSTER FAILOVER. */
  nextFailover: () => 'kill' | 'manual';
  log: (line: string) => void;
}

const unacked = (devices: SimulatedDevice[]) => devices.reduce((n, d) => n + d.outboxSize, 0);

async function executeFault(
  e: FaultEvent,
  record: FaultRecord,
  stack: LocalStack,
  devices: SimulatedDevice[],
  load: LoadHandle,
): Promise<void> {
  const random = prng(e.salt);
  const pick = (fraction: number) => devices.filter(() => random() < fraction);
  switch (e.kind) {
    case 'kill9': {
      const instance = stack.get(e.service as ServiceName, e.instance);
      await stack.stopInstance(instance, 'SIGKILL');
      await sleep(e.downMs);
      await supervise(stack, instance);
      return;
    }
    case 'rolling':
      for (const instance of stack.instances.filter((i) => i.name === e.service)) {
        await stack.stopInstance(instance, 'SIGTERM');
        await supervise(stack, instance);
      }
      return;
    case 'kafka':
      if (e.mode === 'kill9') await deps.kafkaKill9();
      else await deps.kafkaStop();
      await sleep(e.downMs);
      await deps.kafkaStart();
      return;
    case 'redis-flush':
      if (load.redisCluster) await flushCluster();
      else await deps.redisFlushAll();
      return;
    case 'redis-restart': {
      // Whatever the load is doing, some connections send A then B to one conversation into
      // the outage (issue 12: A refused, B queued behind it, must not be sequenced first).
      const candidates = devices.filter((d) => d.ready && d.options.conversations.length > 0);
      const chosen: SimulatedDevice[] = [];
      while (chosen.length < load.pairs && candidates.length > 0)
        chosen.push(candidates.splice(Math.floor(random() * candidates.length), 1)[0]);
      const targets = chosen.map(
        (d) => d.options.conversations[Math.floor(random() * d.options.conversations.length)],
      );
      const sentBefore = load.sent();
      const unackedAtStop = unacked(devices);
      let sentWhileDown: number;
      let unackedAtStart: number;
      let pairs: Promise<number[]>;
      if (load.redisCluster) {
        // A master's slots are out of reach until its replica takes over (the node timeout).
        const sendPairs = () => Promise.all(chosen.map((d, i) => d.sendPair(targets[i], 26, load.budget)));
        // The first one (the short profile's only one) kills a master, the harsher of the two.
        if (load.nextFailover() === 'kill') {
          const killing = killMaster(random(), e.downMs);
          pairs = sendPairs();
          const { killed, promoted } = await killing;
          load.log(`kill -9 of master ${killed}, replica ${promoted} took over, ${killed} back as a replica`);
          record.description = `Redis master ${killed} kill -9, replica ${promoted} took over`;
        } else {
          const failing = manualFailover(random());
          pairs = sendPairs();
          const { from, to } = await failing;
          load.log(`CLUSTER FAILOVER of master ${from} to its replica ${to}`);
          record.description = `Redis CLUSTER FAILOVER ${from} → ${to}`;
        }
        sentWhileDown = load.sent() - sentBefore;
        unackedAtStart = unacked(devices);
      } else {
        await deps.redisStop();
        pairs = Promise.all(chosen.map((d, i) => d.sendPair(targets[i], 26, load.budget)));
        await sleep(e.downMs);
        sentWhileDown = load.sent() - sentBefore;
        unackedAtStart = unacked(devices);
        await deps.redisStart();
      }
      record.redis = {
        unackedAtStop,
        sentWhileDown,
        pairs: (await pairs).filter((n) => n === 2).length,
        unackedAtStart,
      };
      return;
    }
    case 'pg-restart':
      await deps.pgStop();
      await sleep(e.downMs);
      await deps.pgStart();
      return;
    case 'client-drop': {
      // Prefer devices with messages in flight: "dropped mid-send".
      const busy = devices.filter((d) => d.outboxSize > 0);
      const chosen = new Set([...pick(e.fraction ?? 0.2), ...busy.filter(() => random() < 0.5)]);
      for (const d of chosen) d.drop();
      const deadline = Date.now() + 20_000;
      while ([...chosen].some((d) => !d.ready) && Date.now() < deadline) await sleep(200);
      return;
    }
    case 'no-deliver-ack':
      for (const d of pick(e.fraction ?? 0.2)) d.suppressDeliverAck(Date.now() + e.downMs);
      await sleep(e.downMs);
      return;
    case 'resend-early':
      for (const d of pick(e.fraction ?? 0.2)) d.resendEarly(Date.now() + e.downMs);
      await sleep(e.downMs);
      return;
  }
}

/**
 * Starts an instance and waits until it is ready, starting it again when it exits on the way
 * (a service refuses to start while PostgreSQL, Redis or Kafka is down, as it should; a
 * supervisor such as Kubernetes or systemd restarts it, and so does this one).
 */
async function supervise(stack: LocalStack, instance: ServiceInstance): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    stack.spawn(instance);
    try {
      await stack.waitReady(instance, 180_000);
      return;
    } catch (error) {
      if (attempt >= 30 || !String(error).includes('exited')) throw error;
      await sleep(1000);
    }
  }
}

async function readMessages(
  databaseUrl: string,
  conversationIds: string[],
): Promise<{ refs: MessageRef[]; views: Record<string, StandingView[]> }> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const { rows } = await pg.query<{
      conversation_id: string;
      seq: string;
      message_id: string;
      sender_id: string;
      client_msg_id: string;
      content_type: string;
      body: Record<string, unknown>;
      edited_at: Date | null;
      reactions: ReactionView[] | null;
      recalled: boolean;
    }>(
      `SELECT conversation_id, seq, message_id, sender_id, client_msg_id, content_type, body, edited_at, reactions,
              recalled
         FROM messages WHERE conversation_id = ANY($1) ORDER BY conversation_id, seq`,
      [conversationIds],
    );
    const views: Record<string, StandingView[]> = {};
    for (const r of rows)
      (views[r.conversation_id] ??= []).push({
        seq: Number(r.seq),
        contentType: r.content_type,
        body: r.recalled ? {} : r.body,
        ...(r.edited_at && !r.recalled ? { editedAt: r.edited_at.getTime() } : {}),
        ...(r.reactions && !r.recalled ? { reactions: r.reactions } : {}),
        ...(r.recalled ? { recalled: true } : {}),
      });
    const refs = rows.map((r) => ({
      conversationId: r.conversation_id,
      seq: Number(r.seq),
      messageId: r.message_id,
      senderId: r.sender_id,
      clientMsgId: r.client_msg_id,
    }));
    return { refs, views };
  } finally {
    await pg.end();
  }
}

export function summary(r: ChaosResult): string[] {
  const c = r.check;
  const lines = [
    '',
    `══ chaos ${r.profile}${r.redis === 'cluster' ? ' on a Redis Cluster' : ''} · seed ${r.seed} · ${r.passed ? 'PASSED' : 'FAILED'} in ${(r.durationMs / 1000).toFixed(0)} s ══`,
    `  world        ${r.users} users, ${r.devices} devices, ${r.conversations} conversations`,
    `  messages     ${c.sent} sent (${r.minMessages} needed), ${c.acked} acked, ${c.stored} stored; unacked but stored ${c.unackedStored}, unacked not stored ${c.unackedNotStored}`,
    `  faults       ${Object.entries(r.faultsByKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}` +
      (r.faults.some((f) => f.error) ? ` (${r.faults.filter((f) => f.error).length} failed to run)` : ''),
    `  lost         ${c.lost}   (of ${c.deliveriesChecked} deliveries checked)`,
    `  duplicated   ${c.duplicated}`,
    `  targets      ${r.targets.mismatched} standing otherwise than in the database (${r.targets.checked} device copies of ${r.targets.targets} edited, reacted or recalled messages checked)`,
    `  out of order ${c.outOfOrder}   (${c.orderChecked} per-connection sends checked, ${c.orderCheckedResent} of them refused and resent; ${c.orderSkippedFinal} refused as final and acked anyway left out)`,
    `  redis down   ${redisLine(r.faults)}`,
    `  longest gap  ${gapLine(r.gapsByKind)}`,
    `  convergence  ${r.convergenceMs === null ? 'NOT converged' : `${r.convergenceMs} ms after the last fault`}` +
      (r.sendingAfterLastFaultMs > 0 ? ` (sending went on ${r.sendingAfterLastFaultMs} ms after it)` : ''),
    `  client errs  ${
      Object.entries(r.clientErrors)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }; failed sends ${r.failedSends}`,
    `  result       ${r.resultFile}`,
    `  replay       ${r.command}`,
  ];
  if (r.failures.length > 0) lines.push(`  FAILURES     ${r.failures.join('; ')}`);
  for (const f of [...c.findings, ...r.targets.findings].slice(0, 20))
    lines.push(`    ${f.kind}: ${f.detail}`);
  return lines;
}

/** Per fault kind, the longest ack gap, delivery gap and one send's ack wait of its faults, in seconds. */
function gapLine(gaps: ChaosResult['gapsByKind']): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const parts = Object.entries(gaps).map(
    ([k, g]) => `${k} ${s(g.ackMs)}/${s(g.deliveryMs)}/${s(g.ackWaitMs)}`,
  );
  return parts.length > 0
    ? `s without any ack / any delivery / longest wait of one send: ${parts.join(', ')}`
    : 'no fault was carried out';
}

/** Per Redis restart, the load it met: unacked at the stop, sent while down (pairs), unacked at the start. */
function redisLine(faults: FaultRecord[]): string {
  const lines = faults.flatMap(({ id, redis: m }) =>
    m
      ? [
          `#${id} ${m.unackedAtStop} unacked at the stop, ${m.sentWhileDown} sent while down (${m.pairs} pairs), ${m.unackedAtStart} unacked at the start`,
        ]
      : [],
  );
  return lines.length > 0 ? lines.join('; ') : 'no Redis restart was carried out';
}

function parseArgs(argv: string[]): ChaosOptions {
  const options: ChaosOptions = { profile: 'short' };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--profile': {
        const p = value();
        if (p !== 'short' && p !== 'full' && p !== 'availability') throw new Error(`unknown profile ${p}`);
        options.profile = p;
        break;
      }
      case '--seed':
        options.seed = Number(value());
        break;
      case '--messages':
        options.messages = Number(value());
        break;
      case '--min-messages':
        options.minMessages = Number(value());
        break;
      case '--faults':
        options.faultsPerKind = Number(value());
        break;
      case '--window-ms':
        options.windowMs = Number(value());
        break;
      case '--max-pending':
        options.maxPending = Number(value());
        break;
      case '--client': {
        const client = value();
        if (client !== 'kafkajs' && client !== 'platformatic') throw new Error(`unknown client ${client}`);
        options.client = client;
        break;
      }
      case '--echo':
        options.echo = true;
        break;
      case '--redis-cluster':
        options.redisCluster = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return options;
}

if (require.main === module) {
  runChaos(parseArgs(process.argv.slice(2))).then(
    (r) => process.exit(r.passed ? 0 : 1),
    (error) => {
      process.stderr.write(`[chaos] run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(2);
    },
  );
}
