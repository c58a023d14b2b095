import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { LocalStack, ROOT, ServiceName } from '../../docker/local/stack';
import { TestContext } from './context';
import { describeStack } from './stack-info';

/**
 * A stack of its own, for a spec that needs other settings than the shared one (small limits,
 * other JWT settings, a single partition) or whose faults must not touch it (a killed gateway,
 * frames that attack a service). Same services, broker, PostgreSQL and Redis, but its own
 * secrets, database, topic prefix, Redis namespace and ports; `stop()` removes the database and
 * the topics again.
 */
export interface OwnStackOptions {
  /** Short name, part of the database, topic prefix and log directory. */
  name: string;
  /** Overrides of (or additions to) the environment below. */
  env?: Record<string, string>;
  instances?: Partial<Record<ServiceName, number>>;
  /** Flags for each service's node process. */
  nodeArgs?: string[];
}

export interface OwnStack {
  ctx: TestContext;
  stack: LocalStack;
  env: Record<string, string>;
  logDir: string;
  /** `/health/ready` status of every instance (0 when it does not answer at all). */
  readiness(): Promise<{ service: string; status: number }[]>;
  /** The first ERROR lines of every service log, for failure messages. */
  errorLines(max?: number): string[];
  stop(): Promise<void>;
}

/** Ports already handed out by this process (stacks started in parallel must not collide). */
const taken = new Set<number>();

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Ports that fetch() refuses to connect to (the WHATWG "bad ports" above 1023): a service
 * there never looks ready to Node's fetch. A CI run once put a sequencer on 6000 (X11) and
 * waited 90 s for it.
 */
const FETCH_BLOCKED_PORTS = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697,
  10080,
]);

/**
 * A base port in [from, to) whose next `count` ports are free now. Free, not just unlikely to
 * clash: a fixed random range once landed a service on PostgreSQL's 5432.
 */
export async function freePortBase(count: number, from = 6000, to = 6900): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = from + Math.floor(Math.random() * ((to - from) / 10)) * 10;
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.some((p) => taken.has(p) || FETCH_BLOCKED_PORTS.has(p))) continue;
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) {
      ports.forEach((p) => taken.add(p));
      return base;
    }
  }
  throw new Error(`no free port range in ${from}-${to}`);
}

export async function startOwnStack(options: OwnStackOptions): Promise<OwnStack> {
  const run = `${options.name}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const database = `im_${run.replace(/-/g, '_')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    JWT_AUDIENCE: 'im',
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
    REDIS_URL: 'redis://127.0.0.1:6379',
    KAFKA_BROKERS: '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: run,
    KAFKA_PARTITIONS: '2',
    HEARTBEAT_MS: '5000',
    REPUSH_INITIAL_MS: '400',
    REPUSH_MAX_MS: '2000',
    LOG_LEVEL: 'log',
    ...options.env,
  };
  const instances = options.instances ?? { gateway: 1 };
  const count = (['sequencer', 'storage', 'delivery', 'gateway'] as ServiceName[]).reduce(
    (n, s) => n + (instances[s] ?? 1),
    0,
  );
  const logDir = join(ROOT, '.local', 'logs', run);
  const stack = new LocalStack({
    env,
    basePort: await freePortBase(count),
    logDir,
    instances,
    nodeArgs: options.nodeArgs,
  });
  const stop = async () => {
    await stack.stop();
    await dropRun(env.KAFKA_TOPIC_PREFIX, env.DATABASE_URL);
  };
  try {
    await stack.start();
  } catch (error) {
    await stop();
    throw error;
  }
  const ctx = new TestContext(describeStack(stack, env));
  return {
    ctx,
    stack,
    env,
    logDir,
    readiness: () =>
      Promise.all(
        stack.instances.map(async (i) => ({
          service: `${i.name}#${i.index}`,
          status: await fetch(`http://127.0.0.1:${i.port}/health/ready`).then(
            (r) => r.status,
            () => 0,
          ),
        })),
      ),
    errorLines: (max = 6) => errorLines(logDir, max),
    stop: async () => {
      ctx.closeAll();
      await stop();
    },
  };
}

/** The first ERROR (or fatal) lines of each log in `logDir`, without kafkajs topic-creation noise. */
export function errorLines(logDir: string, max = 6): string[] {
  if (!existsSync(logDir)) return [];
  const out: string[] = [];
  for (const file of readdirSync(logDir).sort()) {
    const lines = readFileSync(join(logDir, file), 'utf8')
      .split('\n')
      .filter((l) => /ERROR|RangeError|FATAL|Unhandled|exited/.test(l) && !/CreateTopics/.test(l))
      .slice(0, max);
    out.push(...lines.map((l) => `${file}: ${l.slice(0, 400)}`));
  }
  return out;
}

/** Deletes a run's topics and drops its database; what fails is logged, not thrown. */
export async function dropRun(
  topicPrefix: string,
  databaseUrl: string,
  log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  const admin = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${topicPrefix}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch (error) {
    log(`[${topicPrefix}] topics not deleted: ${String(error)}`);
  } finally {
    await admin.disconnect();
  }
  const url = new URL(databaseUrl);
  const database = url.pathname.slice(1);
  url.pathname = '/postgres';
  const pg = new Client({ connectionString: url.toString() });
  try {
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } catch (error) {
    log(`[${topicPrefix}] database ${database} not dropped: ${String(error)}`);
  } finally {
    await pg.end().catch(() => undefined);
  }
}
