import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStack, ROOT } from '../../docker/local/stack';
import { freePortBase } from './own-stack';
import { describeStack, stackInfoFile } from './stack-info';

export interface E2eRun {
  stack: LocalStack;
  databaseUrl: string;
  topicPrefix: string;
}

/**
 * Starts one stack for all end-to-end specs: two gateways (sender and recipient may sit on
 * different instances) and one of each other service, as separate processes, on a fresh
 * database and fresh Kafka topics, against the real broker, PostgreSQL and Redis.
 */
export default async function globalSetup(): Promise<void> {
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/im_e2e_${run}`;
  const env = {
    NODE_ENV: 'test',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    JWT_AUDIENCE: 'im',
    DATABASE_URL: databaseUrl,
    REDIS_URL: 'redis://127.0.0.1:6379',
    KAFKA_BROKERS: '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: `e2e-${run}`,
    KAFKA_PARTITIONS: '4',
    HEARTBEAT_MS: '2000',
    REPUSH_INITIAL_MS: '400',
    REPUSH_MAX_MS: '2000',
    LOG_LEVEL: 'log',
    // Specs send bursts of hundreds; the limits have their own spec with its own gateway.
    RATE_LIMIT_CONNECTION_PER_SEC: '5000',
    RATE_LIMIT_USER_PER_SEC: '10000',
  };
  const logDir = join(ROOT, '.local', 'logs', `e2e-${run}`);
  const stack = new LocalStack({
    env,
    basePort: await freePortBase(6, 5000, 6000), // other suites use other ranges
    logDir,
    instances: { gateway: 2 },
  });
  process.stdout.write(`\n[e2e] starting the stack (logs in ${logDir}) ...\n`);
  const started = Date.now();
  try {
    await stack.start();
  } catch (error) {
    await stack.stop();
    throw error;
  }
  process.stdout.write(`[e2e] stack ready in ${Date.now() - started} ms\n`);
  const info = describeStack(stack, env);
  mkdirSync(join(ROOT, '.local'), { recursive: true });
  const file = stackInfoFile();
  writeFileSync(file, JSON.stringify(info, null, 2));
  // Test workers inherit the environment of this (the jest parent) process.
  process.env.E2E_STACK_INFO = file;
  (globalThis as { __E2E__?: E2eRun }).__E2E__ = { stack, databaseUrl, topicPrefix: env.KAFKA_TOPIC_PREFIX };
}
