/**
 * `npm run bench:availability`: how long chat stops during a deploy or a crash.
 *
 * Runs the chaos harness's `availability` profile: two instances of every service, a steady
 * 200 msg/s of SDK traffic, and one fault at a time with 10 s of steady load around each: a
 * SIGTERM rolling restart of each service, a kill -9 of one instance of each (restarted after
 * 1 s) and a broker restart. Per fault it prints the longest stretch in which no ack and no
 * delivery reached any device, and the longest any one send waited for its ack (a stall of
 * some partitions only shows there), then the checker's verdict (lost, duplicated, out of order)
 * over the whole run. Writes .local/bench/availability.json (availability-<client>.json with --client).
 *
 *   node -r tsconfig-paths/register dist/test/bench/availability.bench.js [--rate N] [--settle-ms N] [--client kafkajs|platformatic]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../docker/local/stack';
import type { KafkaClientName } from '@im/messaging';
import { PROFILES, runChaos, type ChaosResult } from '../chaos/chaos';

interface Options {
  rate: number;
  settleMs: number;
  client?: KafkaClientName;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { rate: 200, settleMs: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--client') {
      const client = argv[++i];
      if (client !== 'kafkajs' && client !== 'platformatic') throw new Error(`unknown client ${client}`);
      options.client = client;
      continue;
    }
    const value = Number(argv[++i]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${argv[i - 1]} needs a positive number`);
    if (argv[i - 1] === '--rate') options.rate = value;
    else if (argv[i - 1] === '--settle-ms') options.settleMs = value;
    else throw new Error(`unknown argument ${argv[i - 1]}`);
  }
  return options;
}

const seconds = (ms: number | undefined) => (ms === undefined ? '—' : (ms / 1000).toFixed(1));

export function availabilityTable(r: ChaosResult): string[] {
  const rows = r.faults.map((f) => {
    const took =
      f.startedAtMs !== undefined && f.endedAtMs !== undefined ? f.endedAtMs - f.startedAtMs : undefined;
    return [
      f.description,
      seconds(took),
      seconds(f.ackGapMs),
      seconds(f.deliveryGapMs),
      seconds(f.ackWaitMs),
      seconds(f.ackAfterEndMs),
      f.error ?? '',
    ];
  });
  const head = [
    'fault',
    'took s',
    'ack gap s',
    'delivery gap s',
    'longest ack wait s',
    'first ack after end s',
    '',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const c = r.check;
  return [
    '',
    `══ availability · ${r.passed ? 'PASSED' : 'FAILED'} · ${c.sent} messages in ${seconds(r.durationMs)} s ══`,
    `  ${line(head)}`,
    ...rows.map((row) => `  ${line(row)}`),
    `  verdict: lost ${c.lost}, duplicated ${c.duplicated}, out of order ${c.outOfOrder}; ` +
      `converged ${r.convergenceMs === null ? 'NEVER' : `${r.convergenceMs} ms`} after the last fault`,
    ...(r.failures.length > 0 ? [`  FAILURES: ${r.failures.join('; ')}`] : []),
  ];
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const sequence = PROFILES.availability.sequence!;
  sequence.ratePerSecond = options.rate;
  sequence.settleMs = options.settleMs;
  const result = await runChaos({ profile: 'availability', seed: 1, client: options.client });
  const dir = join(ROOT, '.local', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, options.client ? `availability-${options.client}.json` : 'availability.json');
  const faults = result.faults.map((f) => ({
    fault: f.description,
    kind: f.kind,
    tookMs: f.endedAtMs !== undefined && f.startedAtMs !== undefined ? f.endedAtMs - f.startedAtMs : null,
    ackGapMs: f.ackGapMs ?? null,
    deliveryGapMs: f.deliveryGapMs ?? null,
    ackWaitMs: f.ackWaitMs ?? null,
    ackAfterEndMs: f.ackAfterEndMs ?? null,
    error: f.error ?? null,
  }));
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        client: options.client ?? 'default',
        ratePerSecond: options.rate,
        settleMs: options.settleMs,
        passed: result.passed,
        failures: result.failures,
        messages: result.check.sent,
        lost: result.check.lost,
        duplicated: result.check.duplicated,
        outOfOrder: result.check.outOfOrder,
        convergenceMs: result.convergenceMs,
        faults,
      },
      null,
      2,
    ),
  );
  for (const l of availabilityTable(result)) process.stdout.write(`${l}\n`);
  process.stdout.write(`  result: ${file}\n`);
  return result.passed ? 0 : 1;
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(
        `[availability] failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
      process.exit(2);
    },
  );
