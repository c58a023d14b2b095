import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalStack } from '../../docker/local/stack';

/** What the end-to-end global setup started, for the specs to reach it. */
export interface StackInfo {
  gateways: string[];
  adminToken: string;
  jwtSecret: string;
  jwtAudience: string;
  /** The `iss` the stack requires; undefined when JWT_ISSUER is unset (no issuer check). */
  jwtIssuer?: string;
  databaseUrl: string;
  redisUrl: string;
  /** The stack's Redis namespace (REDIS_KEY_PREFIX): a spec touching Redis keys must use it. */
  redisKeyPrefix: string;
  heartbeatMs: number;
  services: { name: string; index: number; port: number; pid: number }[];
}

/** One file per test run (named by the jest process), so that concurrent runs never mix stacks. */
export const stackInfoFile = (pid = process.pid) =>
  join(__dirname, '..', '..', '.local', `e2e-stack-${pid}.json`);

export const readStackInfo = (): StackInfo =>
  JSON.parse(readFileSync(process.env.E2E_STACK_INFO ?? stackInfoFile(), 'utf8')) as StackInfo;

/**
 * How a spec reaches a stack started with `env`: the services' own defaults fill what `env`
 * leaves out (HS256 secrets are required there).
 */
export function describeStack(
  stack: LocalStack,
  env: Readonly<Record<string, string | undefined>>,
): StackInfo {
  const required = (key: string): string => {
    const value = env[key];
    if (value === undefined) throw new Error(`the stack's environment has no ${key}`);
    return value;
  };
  return {
    gateways: stack.gatewayUrls(),
    adminToken: required('ADMIN_TOKEN'),
    jwtSecret: required('JWT_SECRET'),
    jwtAudience: env.JWT_AUDIENCE ?? 'im',
    jwtIssuer: env.JWT_ISSUER || undefined, // empty is unset, as for the services
    databaseUrl: required('DATABASE_URL'),
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? `${env.KAFKA_TOPIC_PREFIX ?? 'im'}:`,
    heartbeatMs: Number(env.HEARTBEAT_MS ?? 25000),
    services: stack.instances.map((i) => ({
      name: i.name,
      index: i.index,
      port: i.port,
      pid: i.process?.pid ?? 0,
    })),
  };
}
