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
  heartbeatMs: number;
  services: { name: string; index: number; port: number; pid: number }[];
}

export const STACK_INFO_FILE = join(__dirname, '..', '..', '.local', 'e2e-stack.json');

export const readStackInfo = (): StackInfo => JSON.parse(readFileSync(STACK_INFO_FILE, 'utf8')) as StackInfo;
