/**
 * `npm run bench:fanout -- --members N --messages K --rate R`: the cost of one large group.
 * Starts its own stack (one process per service), puts N members online with one device each
 * (acking cumulatively after 150 ms, as the SDK does), sends K messages at R/s from rotating
 * senders, and reports completion (send → the last other member has it) p50/p99/max,
 * deliveries per second, frames per delivery by type, and CPU µs per delivery per service.
 * Prints a summary and writes .local/bench/fanout.json; `--profile DIR` leaves each service's
 * CPU profile in DIR.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ROOT } from '../../docker/local/stack';
import { startOwnStack } from '../support/own-stack';
import { cpuSeconds, pct, round } from './process-stats';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MEMBERS = arg('members', 100);
const MESSAGES = arg('messages', 20);
const RATE = arg('rate', 2);
const SENDERS = Math.min(5, MEMBERS);
const ACK_DEBOUNCE_MS = 150;
/** `--profile DIR`: every service writes a V8 CPU profile there when the bench stops it. */
const PROFILE_DIR = process.argv.includes('--profile')
  ? process.argv[process.argv.indexOf('--profile') + 1]
  : undefined;
/** A message still short of members this long after the last send counts as not complete. */
const DRAIN_MS = arg('drain-seconds', 60) * 1000;

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An HS256 user token, as an app server mints one (docs/protocol.md §2). */
function token(secret: string, userId: string): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: userId, aud: 'im', iat: now, exp: now + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** One member's device: records pushes, acks cumulatively like the SDK. */
class Member {
  ws!: WebSocket;
  readonly frames = new Map<string, number>();
  private cursor = 0;
  private acked = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly userId: string,
    private readonly conversationId: string,
    private readonly onMessage: (clientMsgId: string, userId: string) => void,
  ) {}

  async connect(baseUrl: string, jwt: string): Promise<void> {
    this.ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?deviceId=bench&token=${jwt}`);
    await new Promise<void>((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.on('message', (data: Buffer) => {
        const f = JSON.parse(data.toString('utf8')) as { type: string; seq?: number; clientMsgId?: string };
        this.frames.set(f.type, (this.frames.get(f.type) ?? 0) + 1);
        if (f.type === 'welcome') resolve();
        if (f.type === 'message') {
          this.onMessage(f.clientMsgId!, this.userId);
          // Pushes of one conversation arrive in seq order; a real client fills gaps with history.
          if (f.seq! > this.cursor) this.cursor = f.seq!;
          this.timer ??= setTimeout(() => this.flushAck(), ACK_DEBOUNCE_MS);
        }
      });
    });
  }

  private flushAck(): void {
    this.timer = undefined;
    if (this.cursor <= this.acked || this.ws.readyState !== WebSocket.OPEN) return;
    this.acked = this.cursor;
    this.ws.send(
      JSON.stringify({ type: 'deliver_ack', conversationId: this.conversationId, seq: this.cursor }),
    );
  }

  send(text: string): string {
    const clientMsgId = randomUUID();
    this.ws.send(
      JSON.stringify({
        type: 'send',
        clientMsgId,
        conversationId: this.conversationId,
        contentType: 'text',
        body: { text },
      }),
    );
    return clientMsgId;
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send('{"type":"ping"}');
  }
}

async function main() {
  log(`[fanout] ${MEMBERS} members online, ${MESSAGES} messages at ${RATE}/s from ${SENDERS} senders`);
  const own = await startOwnStack({
    name: 'fanout',
    env: {
      LOG_LEVEL: 'warn',
      HEARTBEAT_MS: '25000',
      RATE_LIMIT_CONNECTION_PER_SEC: '1000',
      RATE_LIMIT_USER_PER_SEC: '1000',
      REPUSH_INITIAL_MS: '2000',
      REPUSH_MAX_MS: '30000',
    },
    ...(PROFILE_DIR ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] } : {}),
    instances: { gateway: 1 },
  });
  const { ctx, stack, env } = own;
  try {
    const started = Date.now();
    const ids = Array.from({ length: MEMBERS }, (_, i) => `fan${i}-${randomUUID().slice(0, 6)}`);
    for (let i = 0; i < ids.length; i += 50)
      await Promise.all(
        ids.slice(i, i + 50).map(async (id) => {
          const res = await ctx.admin('POST', '/admin/users', { id });
          if (res.status !== 201) throw new Error(`user ${id}: ${JSON.stringify(res)}`);
        }),
      );
    const group = await ctx.admin('POST', '/admin/conversations', {
      type: 'group',
      memberIds: ids,
      title: 'big',
    });
    if (group.status !== 201) throw new Error(`group: ${JSON.stringify(group)}`);
    const conversationId = group.body.id as string;

    const sentAt = new Map<string, number>();
    const missing = new Map<string, number>();
    const completion = new Map<string, number>();
    const onMessage = (clientMsgId: string) => {
      const left = missing.get(clientMsgId);
      if (left === undefined) return;
      if (left === 1) {
        missing.delete(clientMsgId);
        completion.set(clientMsgId, performance.now() - sentAt.get(clientMsgId)!);
      } else missing.set(clientMsgId, left - 1);
    };
    // Every member counts each first push of a message once (re-pushes are counted as frames).
    const seen = new Set<string>();
    const members = ids.map(
      (id) =>
        new Member(id, conversationId, (clientMsgId, userId) => {
          const key = `${clientMsgId}|${userId}`;
          if (seen.has(key)) return;
          seen.add(key);
          onMessage(clientMsgId);
        }),
    );
    const gateway = ctx.gateway();
    for (let i = 0; i < members.length; i += 100)
      await Promise.all(
        members.slice(i, i + 100).map((m) => m.connect(gateway, token(env.JWT_SECRET, m.userId))),
      );
    log(`[fanout] ${MEMBERS} members connected in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const pinger = setInterval(() => members.forEach((m) => m.ping()), 10_000);
    await sleep(1000); // presence settles

    const pids = stack.instances.map((i) => ({ name: i.name, pid: i.process?.pid ?? 0 }));
    const cpuBefore = pids.map((p) => cpuSeconds(p.pid));
    const framesBefore = totalFrames(members);
    const t0 = performance.now();
    for (let k = 0; k < MESSAGES; k++) {
      const due = t0 + (k * 1000) / RATE;
      await sleep(Math.max(0, due - performance.now()));
      const sender = members[k % SENDERS];
      const id = sender.send(`message ${k} of the fan-out bench`);
      sentAt.set(id, performance.now());
      missing.set(id, MEMBERS - 1);
    }
    const sendEnd = performance.now();
    const deadline = Date.now() + DRAIN_MS;
    let lastProgress = Date.now();
    while (missing.size > 0 && Date.now() < deadline) {
      await sleep(100);
      if (Date.now() - lastProgress > 5000) {
        lastProgress = Date.now();
        log(`[fanout] waiting: ${missing.size} messages not yet with every member`);
      }
    }
    const completeEnd = performance.now();
    // Let acks, receipts and re-pushes of this run settle before counting frames and CPU.
    await sleep(3000);
    const cpu = pids.map((p, i) => ({ name: p.name, seconds: cpuSeconds(p.pid) - cpuBefore[i] }));
    const frames = diffFrames(totalFrames(members), framesBefore);
    clearInterval(pinger);
    for (const m of members) m.ws.close();

    const deliveries = MESSAGES * (MEMBERS - 1);
    const done = [...completion.values()].sort((a, b) => a - b);
    const perService = new Map<string, number>();
    for (const c of cpu) perService.set(c.name, (perService.get(c.name) ?? 0) + c.seconds);
    const result = {
      members: MEMBERS,
      messages: MESSAGES,
      rate: RATE,
      complete: done.length,
      incomplete: MESSAGES - done.length,
      completionMs: {
        p50: round(pct(done, 50)),
        p99: round(pct(done, 99)),
        max: round(done[done.length - 1] ?? NaN),
      },
      deliveriesPerSecond: round((seen.size / (completeEnd - t0)) * 1000),
      framesPerDelivery: Object.fromEntries([...frames].map(([type, n]) => [type, round(n / deliveries, 3)])),
      cpuMicrosPerDelivery: Object.fromEntries(
        [...perService].map(([name, s]) => [name, round((s / deliveries) * 1e6)]),
      ),
      cpuSecondsTotal: round(
        cpu.reduce((s, c) => s + c.seconds, 0),
        2,
      ),
      sendSeconds: round((sendEnd - t0) / 1000, 1),
    };
    log('');
    log(`fan-out: ${MEMBERS} members, ${MESSAGES} messages at ${RATE}/s`);
    log(`  complete     ${result.complete}/${MESSAGES} messages reached all ${MEMBERS - 1} other members`);
    log(
      `  completion   p50 ${result.completionMs.p50} ms   p99 ${result.completionMs.p99} ms   max ${result.completionMs.max} ms`,
    );
    log(`  deliveries   ${result.deliveriesPerSecond}/s`);
    log(
      `  frames/delivery ${Object.entries(result.framesPerDelivery)
        .map(([t, n]) => `${t} ${n}`)
        .join('   ')}`,
    );
    log(
      `  CPU µs/delivery ${Object.entries(result.cpuMicrosPerDelivery)
        .map(([s, n]) => `${s} ${n}`)
        .join('   ')}   (${result.cpuSecondsTotal} CPU-s in all)`,
    );
    const dir = join(ROOT, '.local', 'bench');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'fanout.json'), JSON.stringify(result, null, 2));
    log(`  result       ${join(dir, 'fanout.json')}`);
  } finally {
    await own.stop();
  }
}

function totalFrames(members: Member[]): Map<string, number> {
  const total = new Map<string, number>();
  for (const m of members) for (const [type, n] of m.frames) total.set(type, (total.get(type) ?? 0) + n);
  return total;
}

function diffFrames(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [type, n] of after) if (type !== 'pong') out.set(type, n - (before.get(type) ?? 0));
  return out;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
