import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { LocalStack, ROOT, ServiceName } from '../../docker/local/stack';
import { contextForStack, TestContext } from './context';

/**
 * A stack of its own for a spec that needs other settings than the shared one: fresh secrets,
 * database and topic prefix; `stop()` stops it and drops its database.
 */
export function ownStack(
  name: string,
  basePort: number,
  settings: Record<string, string>,
  instances: Partial<Record<ServiceName, number>> = {},
) {
  const run = `${name}${Date.now().toString(36)}`;
  const database = `im_${run}`;
  const env = {
    NODE_ENV: 'test',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
    KAFKA_TOPIC_PREFIX: run,
    ...settings,
  };
  const stack = new LocalStack({ env, basePort, logDir: join(ROOT, '.local', 'logs', run), instances });
  let ctx: TestContext | undefined;
  return {
    stack,
    get ctx(): TestContext {
      if (!ctx) throw new Error('start() the stack first');
      return ctx;
    },
    async start() {
      await stack.start();
      ctx = contextForStack(stack, env);
    },
    async stop() {
      ctx?.closeAll();
      await stack.stop();
      const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await pg.connect();
      await pg.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await pg.end();
    },
  };
}
