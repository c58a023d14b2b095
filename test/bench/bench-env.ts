import { randomBytes } from 'node:crypto';

/** The environment of a bench's own stack: fresh secrets, and a database and topics named after the run. */
export function benchEnv(run: string, extra: Record<string, string> = {}) {
  return {
    NODE_ENV: 'test',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/im_${run.replace(/-/g, '_')}`,
    KAFKA_TOPIC_PREFIX: run,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}
