/**
 * `npm run bench`: how fast the system is, and how that compares with what this machine can
 * do. On a fresh stack of separate processes it drives open-loop load at rising rates with a
 * mix of direct conversations, small groups and one large group, and measures send→ack and
 * send→deliver latency, CPU seconds per thousand messages, memory per idle connection and the
 * highest rate whose p99 send→ack stays under 100 ms. Then it measures the ceilings on the
 * same machine: raw Kafka produce+consume with acks=all, raw batched PostgreSQL inserts of
 * the same rows, and a bare `ws` echo. Prints a table, writes .local/bench/bench.json and a
 * PNG chart of latency against rate (rendered by headless Chromium when it is installed).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { LocalStack, ROOT } from '../../docker/local/stack';
import { contextForStack, TestContext, TestUser } from '../support/context';
import { TestClient } from '../support/test-client';
import { Inspector } from './inspector';
import { machineCeilings, type MachineCeilings } from './machine-ceilings';
import { cpuTimes, pct, round, rssBytes } from './process-stats';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const STEP_SECONDS = arg('step-seconds', 10);
const RATES = (
  process.argv.includes('--rates')
    ? process.argv[process.argv.indexOf('--rates') + 1]
    : '100,250,500,1000,1500,2000'
)
  .split(',')
  .map(Number);
const IDLE_CONNECTIONS = arg('idle', 2000);
/** The gateway runs under --inspect so the idle-memory readings can collect garbage first. */
const GATEWAY_INSPECTOR_PORT = 9338;
/** `--profile DIR`: every service writes a V8 CPU profile there when the bench stops it. */
const PROFILE_DIR = process.argv.includes('--profile')
  ? process.argv[process.argv.indexOf('--profile') + 1]
  : undefined;
/** `--no-ceilings`: skip the machine's ceilings (for profiling runs). */
const CEILINGS = !process.argv.includes('--no-ceilings');
const BODY = { text: 'x'.repeat(120) };

const log = (line: string) => process.stdout.write(`${line}\n`);

interface StepResult {
  targetRate: number;
  achievedRate: number;
  sent: number;
  acked: number;
  ackP50: number;
  ackP95: number;
  ackP99: number;
  deliverP50: number;
  deliverP95: number;
  deliverP99: number;
  cpuSecondsPer1000: number;
  /** The same per service, split into user and kernel (system) time. */
  cpuPer1000ByService: Record<string, { user: number; system: number }>;
  /** Mean time each pipeline stage added in this step (ms), from the services' own histograms. */
  stageMeansMs: Record<string, number>;
}

/** Sum and count of im_message_stage_seconds per stage, over every service instance. */
async function stageTotals(ports: number[]): Promise<Map<string, { sum: number; count: number }>> {
  const totals = new Map<string, { sum: number; count: number }>();
  for (const port of ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => '');
    for (const m of text.matchAll(/^im_message_stage_seconds_(sum|count)\{stage="(\w+)"\} (\S+)$/gm)) {
      const t = totals.get(m[2]) ?? { sum: 0, count: 0 };
      t[m[1] as 'sum' | 'count'] += Number(m[3]);
      totals.set(m[2], t);
    }
  }
  return totals;
}

interface Lane {
  sender: TestClient;
  conversationId: string;
  /** One online recipient device whose pushes time send→deliver. */
  recipient: TestClient;
}

async function buildLanes(ctx: TestContext): Promise<Lane[]> {
  const lanes: Lane[] = [];
  const users: TestUser[] = [];
  for (let i = 0; i < 60; i++) users.push(await ctx.newUser('b'));
  // 20 direct conversations, 8 small groups (5), one large group (50).
  for (let i = 0; i < 20; i++) {
    const conversationId = await ctx.newConversation([users[2 * i], users[2 * i + 1]]);
    lanes.push({
      sender: await ctx.connect(users[2 * i]),
      conversationId,
      recipient: await ctx.connect(users[2 * i + 1]),
    });
  }
  for (let g = 0; g < 8; g++) {
    const members = users.slice(40 + (g % 4) * 5, 45 + (g % 4) * 5);
    const conversationId = await ctx.newConversation(members, 'group');
    lanes.push({
      sender: await ctx.connect(members[0]),
      conversationId,
      recipient: await ctx.connect(members[1]),
    });
  }
  const large = await ctx.newConversation(users.slice(0, 50), 'group');
  lanes.push({
    sender: await ctx.connect(users[50]),
    conversationId: large,
    recipient: await ctx.connect(users[51]),
  });
  await ctx.admin('POST', `/admin/conversations/${large}/members`, { userIds: [users[50].id, users[51].id] });
  for (const lane of lanes) {
    // Recipients acknowledge what they get, as a real client does.
    lane.recipient.ws.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString('utf8')) as { type: string; conversationId?: string; seq?: number };
      if (f.type === 'message')
        lane.recipient.sendRaw({ type: 'deliver_ack', conversationId: f.conversationId, seq: f.seq });
    });
  }
  return lanes;
}

interface ServiceProcess {
  name: string;
  pid: number;
  port: number;
}

async function runStep(lanes: Lane[], rate: number, services: ServiceProcess[]): Promise<StepResult> {
  const ports = services.map((s) => s.port);
  const stagesBefore = await stageTotals(ports);
  const sentAt = new Map<string, number>();
  const ack: number[] = [];
  const deliver: number[] = [];
  const listeners: (() => void)[] = [];
  for (const lane of lanes) {
    const onAck = (data: Buffer) => {
      const f = JSON.parse(data.toString('utf8')) as { type: string; clientMsgId?: string };
      if (f.type === 'ack' && f.clientMsgId && sentAt.has(f.clientMsgId))
        ack.push(performance.now() - sentAt.get(f.clientMsgId)!);
    };
    const onPush = (data: Buffer) => {
      const f = JSON.parse(data.toString('utf8')) as { type: string; clientMsgId?: string };
      if (f.type === 'message' && f.clientMsgId && sentAt.has(f.clientMsgId))
        deliver.push(performance.now() - sentAt.get(f.clientMsgId)!);
    };
    lane.sender.ws.on('message', onAck);
    lane.recipient.ws.on('message', onPush);
    listeners.push(
      () => lane.sender.ws.off('message', onAck),
      () => lane.recipient.ws.off('message', onPush),
    );
  }
  const timesBefore = services.map((s) => cpuTimes(s.pid));
  const started = performance.now();
  const total = Math.round(rate * STEP_SECONDS);
  let sent = 0;
  // Open loop: sends go out on schedule whatever the answers do (no coordinated omission).
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        const lane = lanes[sent % lanes.length];
        const id = randomUUID();
        sentAt.set(id, performance.now());
        lane.sender.sendRaw({
          type: 'send',
          clientMsgId: id,
          conversationId: lane.conversationId,
          contentType: 'text',
          body: BODY,
        });
        sent++;
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  const sendSeconds = (performance.now() - started) / 1000;
  const deadline = Date.now() + 15_000;
  while (ack.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // One read of /proc per service gives both the split and the total.
  const per1000 = (seconds: number) => round((seconds / Math.max(1, ack.length)) * 1000, 2);
  const cpuPer1000ByService: StepResult['cpuPer1000ByService'] = {};
  let cpu = 0;
  services.forEach((s, i) => {
    const t = cpuTimes(s.pid);
    const user = t.user - timesBefore[i].user;
    const system = t.system - timesBefore[i].system;
    cpu += user + system;
    cpuPer1000ByService[s.name] = { user: per1000(user), system: per1000(system) };
  });
  const stageMeansMs: Record<string, number> = {};
  for (const [stage, t] of await stageTotals(ports)) {
    const b = stagesBefore.get(stage) ?? { sum: 0, count: 0 };
    if (t.count > b.count) stageMeansMs[stage] = round(((t.sum - b.sum) / (t.count - b.count)) * 1000);
  }
  for (const off of listeners) off();
  ack.sort((a, b) => a - b);
  deliver.sort((a, b) => a - b);
  return {
    targetRate: rate,
    achievedRate: round(ack.length / Math.max(sendSeconds, (performance.now() - started) / 1000 - 0)),
    sent,
    acked: ack.length,
    ackP50: round(pct(ack, 50)),
    ackP95: round(pct(ack, 95)),
    ackP99: round(pct(ack, 99)),
    deliverP50: round(pct(deliver, 50)),
    deliverP95: round(pct(deliver, 95)),
    deliverP99: round(pct(deliver, 99)),
    cpuSecondsPer1000: per1000(cpu),
    cpuPer1000ByService,
    stageMeansMs,
  };
}

/**
 * What one idle, authenticated WebSocket costs the gateway: measured on the fresh gateway before
 * any load (afterwards its heap has room to spare and RSS does not move), as the growth of RSS and
 * of heap + external memory over IDLE_CONNECTIONS connections, each read after a full GC through
 * the gateway's inspector (without it the figure counted the garbage of opening them, 3–76 KiB).
 * `npm run bench:connections` measures the same over 19,500 connections and breaks it down.
 */
async function idleConnectionMemory(
  ctx: TestContext,
  gatewayPid: number,
): Promise<{ rssBytes: number; heapBytes: number }> {
  const inspector = await Inspector.open(GATEWAY_INSPECTOR_PORT);
  const user = await ctx.newUser('idle');
  await new Promise((r) => setTimeout(r, 2000));
  const memBefore = await inspector.memoryAfterGc();
  const rssBefore = rssBytes(gatewayPid);
  const clients: WebSocket[] = [];
  for (let i = 0; i < IDLE_CONNECTIONS; i++) {
    // One user with many devices: the bench stack raises MAX_CONNECTIONS_PER_USER for it.
    const ws = new WebSocket(
      `${ctx.gateway().replace('http', 'ws')}/ws?token=${user.token}&deviceId=idle-${i}`,
    );
    await new Promise((r) => ws.once('message', r));
    clients.push(ws);
    if ((i + 1) % 500 === 0) log(`[bench]   ${i + 1}/${IDLE_CONNECTIONS} idle connections open`);
  }
  await new Promise((r) => setTimeout(r, 3000));
  const memAfter = await inspector.memoryAfterGc();
  const rssAfter = rssBytes(gatewayPid);
  inspector.close();
  for (const ws of clients) ws.close();
  await new Promise((r) => setTimeout(r, 1000));
  return {
    rssBytes: Math.max(0, (rssAfter - rssBefore) / IDLE_CONNECTIONS),
    heapBytes: Math.max(
      0,
      (memAfter.heap + memAfter.external - memBefore.heap - memBefore.external) / IDLE_CONNECTIONS,
    ),
  };
}

function chartSvg(steps: StepResult[]): string {
  const w = 720;
  const h = 420;
  const pad = 60;
  const maxRate = Math.max(...steps.map((s) => s.targetRate));
  const maxMs = Math.max(100, ...steps.map((s) => (Number.isFinite(s.ackP99) ? s.ackP99 : 0)));
  const x = (r: number) => pad + ((w - 2 * pad) * r) / maxRate;
  const y = (ms: number) => h - pad - ((h - 2 * pad) * Math.min(ms, maxMs)) / maxMs;
  const line = (key: 'ackP50' | 'ackP99' | 'deliverP99', color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${steps
      .filter((s) => Number.isFinite(s[key]))
      .map((s) => `${x(s.targetRate)},${y(s[key])}`)
      .join(' ')}"/>`;
  const ticks = steps
    .map(
      (s) =>
        `<text x="${x(s.targetRate)}" y="${h - pad + 18}" font-size="11" text-anchor="middle">${s.targetRate}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${w / 2}" y="24" text-anchor="middle" font-size="15">send→ack latency against offered rate</text>
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#333"/>
<line x1="${pad}" y1="${y(100)}" x2="${w - pad}" y2="${y(100)}" stroke="#c33" stroke-dasharray="4 4"/><text x="${w - pad}" y="${y(100) - 4}" font-size="11" text-anchor="end" fill="#c33">100 ms</text>
${ticks}<text x="${w / 2}" y="${h - 18}" font-size="12" text-anchor="middle">messages per second offered</text>
<text x="16" y="${h / 2}" font-size="12" transform="rotate(-90 16 ${h / 2})" text-anchor="middle">ms (max ${Math.round(maxMs)})</text>
${line('ackP50', '#2463eb')}${line('ackP99', '#e08a00')}${line('deliverP99', '#2f8f4e')}
<text x="${pad + 10}" y="${pad}" font-size="12" fill="#2463eb">ack p50</text><text x="${pad + 80}" y="${pad}" font-size="12" fill="#e08a00">ack p99</text><text x="${pad + 150}" y="${pad}" font-size="12" fill="#2f8f4e">deliver p99</text>
</svg>`;
}

async function renderPng(svgPath: string, pngPath: string): Promise<boolean> {
  if (!existsSync('/usr/bin/chromium')) return false;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 720, height: 420 } });
  await page.goto(`file://${svgPath}`);
  await page.screenshot({ path: pngPath });
  await browser.close();
  return true;
}

async function main() {
  const run = Date.now().toString(36);
  const env = {
    NODE_ENV: 'test',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/im_bench_${run}`,
    KAFKA_TOPIC_PREFIX: `bench-${run}`,
    LOG_LEVEL: 'warn',
    MAX_CONNECTIONS_PER_USER: String(IDLE_CONNECTIONS + 10),
    RATE_LIMIT_CONNECTION_PER_SEC: '100000',
    RATE_LIMIT_USER_PER_SEC: '100000',
  };
  const stack = new LocalStack({
    env,
    basePort: 8600,
    logDir: join(ROOT, '.local', 'logs', `bench-${run}`),
    ...(PROFILE_DIR ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] } : {}),
    nodeArgsOf: { gateway: [`--inspect=127.0.0.1:${GATEWAY_INSPECTOR_PORT}`] },
  });
  log(`[bench] starting the stack ...`);
  await stack.start();
  const services = stack.instances.map((i) => ({
    name: `${i.name}-${i.index}`,
    pid: i.process!.pid!,
    port: i.port,
  }));
  const ctx = contextForStack(stack, env);
  const steps: StepResult[] = [];
  let idle = { rssBytes: 0, heapBytes: 0 };
  let ceilings: Partial<MachineCeilings> = {};
  try {
    const lanes = await buildLanes(ctx);
    log(
      `[bench] ${lanes.length} senders: 20 direct, 8 groups of 5, 1 group of 50; ${STEP_SECONDS} s per rate`,
    );
    log(`[bench] memory per idle connection (${IDLE_CONNECTIONS} connections, before any load) ...`);
    idle = await idleConnectionMemory(ctx, stack.get('gateway').process!.pid!);
    await runStep(lanes, 100, services); // warm-up, not reported
    for (const rate of RATES) {
      const step = await runStep(lanes, rate, services);
      steps.push(step);
      log(
        `[bench] ${rate} msg/s offered: ${step.achievedRate} acked/s, ack p50/p95/p99 ${step.ackP50}/${step.ackP95}/${step.ackP99} ms, ` +
          `deliver p99 ${step.deliverP99} ms, ${step.cpuSecondsPer1000} CPU s per 1000; mean ms per stage ` +
          Object.entries(step.stageMeansMs)
            .map(([stage, ms]) => `${stage} ${ms}`)
            .join(', ') +
          '; CPU s per 1000 user+system ' +
          Object.entries(step.cpuPer1000ByService)
            .map(([name, t]) => `${name} ${t.user}+${t.system}`)
            .join(', '),
      );
      if (step.acked < step.sent * 0.95) {
        log(`[bench] past saturation (${step.acked}/${step.sent} acked within 15 s); stopping the ramp`);
        break;
      }
    }
    if (CEILINGS) {
      log(`[bench] ceilings on this machine ...`);
      ceilings = await machineCeilings(env.DATABASE_URL, BODY);
    }
  } finally {
    ctx.closeAll();
    await stack.stop();
  }

  const sustained = steps.filter((s) => s.ackP99 <= 100 && s.acked >= s.sent * 0.99);
  const maxSustained = sustained.length ? Math.max(...sustained.map((s) => s.achievedRate)) : 0;
  const best = steps.reduce((a, s) => (s.achievedRate > a.achievedRate ? s : a), steps[0]);
  const ratio = (ours: number, ceiling: number | undefined) =>
    ceiling ? `${((100 * ours) / ceiling).toFixed(1)}%` : 'n/a';
  log('\n rate  acked/s  ack p50   p95     p99   deliver p50   p95     p99   CPU s/1000');
  for (const s of steps) {
    log(
      `${String(s.targetRate).padStart(5)} ${String(s.achievedRate).padStart(8)} ${String(s.ackP50).padStart(7)} ${String(s.ackP95).padStart(6)} ${String(s.ackP99).padStart(7)} ${String(s.deliverP50).padStart(9)} ${String(s.deliverP95).padStart(7)} ${String(s.deliverP99).padStart(7)} ${String(s.cpuSecondsPer1000).padStart(8)}`,
    );
  }
  log(`\n max sustained rate with p99 send→ack ≤ 100 ms: ${maxSustained} msg/s`);
  log(
    ` memory per idle connection: ${(idle.rssBytes / 1024).toFixed(1)} KiB RSS, ${(idle.heapBytes / 1024).toFixed(1)} KiB heap + external (gateway)`,
  );
  log('\n ceiling                                  rate/s    ours as a share');
  log(
    ` Kafka produce, acks=all, idempotent   ${String(ceilings.produceRate).padStart(9)}    ${ratio(best.achievedRate, ceilings.produceRate)} (3 produces per message in our pipeline)`,
  );
  log(
    ` Kafka consume                          ${String(ceilings.consumeRate).padStart(9)}    ${ratio(best.achievedRate, ceilings.consumeRate)}`,
  );
  log(
    ` PostgreSQL batched insert              ${String(ceilings.insertRate).padStart(9)}    ${ratio(best.achievedRate, ceilings.insertRate)}`,
  );
  log(
    ` bare ws echo                           ${String(ceilings.echoRate).padStart(9)}    ${ratio(best.achievedRate, ceilings.echoRate)}`,
  );

  const out = join(ROOT, '.local', 'bench');
  mkdirSync(out, { recursive: true });
  const result = {
    at: new Date().toISOString(),
    stepSeconds: STEP_SECONDS,
    steps,
    maxSustainedRate: maxSustained,
    idleConnectionBytes: Math.round(idle.rssBytes),
    idleConnectionHeapBytes: Math.round(idle.heapBytes),
    ceilings,
  };
  writeFileSync(join(out, 'bench.json'), JSON.stringify(result, null, 2));
  writeFileSync(join(out, 'latency.svg'), chartSvg(steps));
  const png = (await renderPng(join(out, 'latency.svg'), join(out, 'latency.png')))
    ? join(out, 'latency.png')
    : join(out, 'latency.svg');
  log(`\n written ${join(out, 'bench.json')} and ${png}`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
