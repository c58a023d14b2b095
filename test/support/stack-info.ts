import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the end-to-end global setup started, for the specs to reach it. */
export interface StackInfo {
  gateways: string[];
  adminToken: string;
  jwtSecret: string;
  jwtAudience: string;
  jwtIssuer: string;
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
