/**
 * `npm run bench:idle`: what the services cost with nothing to do. Starts a stack of its own
 * (one instance each), lets it settle for 10 s, then reads each process's CPU time over
 * `--seconds` (20) and prints milliseconds of CPU per second per service. The services read
 * their settings from the environment as usual, so e.g. `KAFKA_FETCH_MAX_WAIT_MS=50
 * npm run bench:idle` measures another fetch long-poll. Writes .local/bench/idle.json.
 *
 *   node -r tsconfig-paths/register dist/test/bench/idle.bench.js [--seconds 20]
 */
import { join } from 'node:path';
import { LocalStack, ROOT } from '../../docker/local/stack';
import { dropRun } from '../support/own-stack';
import { benchEnv } from './bench-env';
import { printTable, runBench, writeBenchResults } from './bench-output';
import { cpuSeconds, round } from './process-stats';

const i = process.argv.indexOf('--seconds');
const SECONDS = i > 0 ? Number(process.argv[i + 1]) : 20;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main() {
  const run = `idle-${Date.now().toString(36)}`;
  const env = benchEnv(run);
  const stack = new LocalStack({ env, basePort: 8700, logDir: join(ROOT, '.local', 'logs', run) });
  process.stdout.write(`[idle] starting the stack ...\n`);
  await stack.start();
  try {
    await sleep(10_000);
    process.stdout.write(`[idle] measuring ${SECONDS} s ...\n`);
    const before = stack.instances.map((s) => cpuSeconds(s.process!.pid!));
    await sleep(SECONDS * 1000);
    const results = stack.instances.map((s, k) => ({
      service: `${s.name}-${s.index}`,
      cpuMsPerSecond: round(((cpuSeconds(s.process!.pid!) - before[k]) / SECONDS) * 1000),
    }));
    const total = round(results.reduce((sum, r) => sum + r.cpuMsPerSecond, 0));
    printTable(
      ['service', 'CPU ms/s'],
      [...results.map((r) => [r.service, r.cpuMsPerSecond]), ['all', total]],
      14,
      10,
    );
    process.stdout.write(` result: ${writeBenchResults('idle', { seconds: SECONDS, total, results })}\n`);
  } finally {
    await stack.stop();
    await dropRun(env.KAFKA_TOPIC_PREFIX, env.DATABASE_URL, () => undefined).catch(() => undefined);
  }
}

if (require.main === module) runBench('idle', main);
