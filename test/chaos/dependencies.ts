/**
 * The machine's shared dependencies as the chaos run breaks and restores them: Redis on
 * 127.0.0.1:6379, the PostgreSQL cluster on 127.0.0.1:5432, the local Kafka broker.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../docker/local/stack';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function ok(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} not back after ${timeoutMs} ms`);
    await sleep(200);
  }
}

// --- Redis ------------------------------------------------------------------------------

export const redisUp = async (): Promise<boolean> => {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], { timeout: 5000 });
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
};

export async function redisFlushAll(): Promise<void> {
  await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'flushall'], { timeout: 10_000 });
}

export async function redisStop(): Promise<void> {
  await ok('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave']);
  await until('Redis stop', async () => !(await redisUp()), 10_000);
}

export async function redisStart(): Promise<void> {
  if (await redisUp()) return;
  await run(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1',
      '--port',
      '6379',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/var/lib/redis',
      '--logfile',
      '/var/log/redis/ci.log',
    ],
    { timeout: 10_000 },
  );
  await until('Redis', redisUp, 15_000);
}

// --- PostgreSQL -------------------------------------------------------------------------

const pgVersion = () => readdirSync('/etc/postgresql')[0];
const pgctl = (action: string) =>
  run('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', action], { timeout: 60_000 });

export const pgUp = () => ok('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432']);

export async function pgStop(): Promise<void> {
  await pgctl('stop');
}

export async function pgStart(): Promise<void> {
  if (!(await pgUp())) {
    try {
      await pgctl('start');
    } catch (error) {
      // "already running" during a concurrent start is fine; anything else shows up below.
      if (!(await pgUp())) throw error;
    }
  }
  await until('PostgreSQL', pgUp, 60_000);
}

// --- Kafka ------------------------------------------------------------------------------

const KAFKA_SH = join(ROOT, 'docker', 'local', 'kafka.sh');
const PID_FILE = join(ROOT, '.local', 'kafka', 'broker.pid');

export const kafkaUp = () => ok('bash', [KAFKA_SH, 'status']);

export async function kafkaStop(): Promise<void> {
  await run('bash', [KAFKA_SH, 'stop'], { timeout: 60_000 });
}

/** True while the process exists and is not a zombie (PID 1 here may not reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function kafkaKill9(): Promise<void> {
  if (!existsSync(PID_FILE)) throw new Error(`no ${PID_FILE}: the broker was not started by kafka.sh`);
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  process.kill(pid, 'SIGKILL');
  await until('broker exit', async () => !alive(pid), 10_000);
  // kafka.sh reuses a live pid file; a zombie would look alive to `kill -0`.
  rmSync(PID_FILE, { force: true });
}

export async function kafkaStart(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run('bash', [KAFKA_SH, 'start'], { timeout: 180_000 });
      await until('Kafka', kafkaUp, 60_000);
      return;
    } catch (error) {
      // Another run on this machine may have started the broker at the same moment (kafka.sh
      // then sees "its" process exit on the port clash): what counts is that one answers.
      try {
        await until('Kafka', kafkaUp, 30_000);
        return;
      } catch {
        if (attempt >= 3) throw error;
      }
    }
  }
}

/** Brings every dependency back, whatever state a (failed) run left it in. */
export async function restoreAll(log: (line: string) => void): Promise<void> {
  const steps: [string, () => Promise<boolean>, () => Promise<void>][] = [
    ['Redis', redisUp, redisStart],
    ['PostgreSQL', pgUp, pgStart],
    ['Kafka', kafkaUp, kafkaStart],
  ];
  for (const [name, up, start] of steps) {
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (await up()) break;
      log(`restoring ${name} (attempt ${attempt}) ...`);
      try {
        await start();
      } catch (error) {
        log(`restoring ${name} failed: ${String(error)}`);
        await sleep(1000);
      }
    }
    if (!(await up())) log(`WARNING: ${name} is still down`);
  }
}
