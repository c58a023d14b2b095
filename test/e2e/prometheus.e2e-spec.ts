import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup } from '../support/context';
import { sendAndAck, waitFor } from '../support/helpers';
import { freePortBase } from '../support/own-stack';

/**
 * A real Prometheus (Debian's package) scraping the running stack with the shipped rules
 * (docker/observability/rules/im-rules.yml): every service's series arrive, the recordings the
 * dashboard reads have values, and every rule evaluates without error.
 */
describe('Prometheus scraping the stack', () => {
  const ctx = setup();
  const dir = mkdtempSync(join(tmpdir(), 'im-prometheus-'));
  let prometheus: ChildProcess | undefined;
  let api = '';

  const query = async (
    promql: string,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data: { result: never[] } };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  beforeAll(async () => {
    const port = await freePortBase(1, 19000, 19900);
    api = `http://127.0.0.1:${port}`;
    const targets = ctx.stack.services.map((s) => ({
      targets: [`127.0.0.1:${s.port}`],
      labels: { service: s.name },
    }));
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(__dirname, '..', '..', 'docker', 'observability', 'rules', 'im-rules.yml')],
      scrape_configs: [{ job_name: 'im', static_configs: targets }],
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.ok,
      'Prometheus to be ready',
      30_000,
      200,
    );
  }, 60_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes every instance of the four services and sees each one’s own series', async () => {
    const instances = ctx.stack.services.length;
    await waitFor(
      async () => (await query('up == 1')).length === instances,
      `all ${instances} instances up`,
      30_000,
      500,
    );
    const own: Record<string, string> = {
      gateway: 'im_gateway_connections',
      sequencer: 'im_sequencer_messages_total',
      storage: 'im_storage_messages_total',
      delivery: 'im_delivery_acks_total',
    };
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    await ctx.connect(bob);
    await sendAndAck(a, conversationId, 'seen by Prometheus');
    // A service exports a series once it has something to count: after this first message.
    const perService = await query('count by (service) (process_resident_memory_bytes)');
    expect(perService.map((s) => s.metric.service).sort()).toEqual([
      'delivery',
      'gateway',
      'sequencer',
      'storage',
    ]);
    for (const [service, metric] of Object.entries(own))
      await waitFor(
        async () => (await query(`${metric}{service="${service}"}`)).length > 0,
        `${metric} from ${service}`,
        15_000,
        500,
      );
  });

  it('evaluates every rule without error, and the dashboard’s recordings have values', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const [a] = [await ctx.connect(alice), await ctx.connect(bob)];
    // Rates need the histograms to grow between two scrapes: keep sending while waiting.
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        await sendAndAck(a, conversationId, 'traffic');
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      for (const recording of [
        'im:connections:sum',
        'im:send_to_ack_seconds:p99',
        'im:send_to_push_seconds:p50',
      ])
        await waitFor(
          async () => (await query(recording)).some((s) => Number.isFinite(Number(s.value[1]))),
          `a value of ${recording}`,
          30_000,
          500,
        );
    } finally {
      sending = false;
      await traffic;
    }
    const res = await fetch(`${api}/api/v1/rules`);
    const { data } = (await res.json()) as {
      data: { groups: { rules: { name: string; health: string; type: string; state?: string }[] }[] };
    };
    const rules = data.groups.flatMap((g) => g.rules);
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
    expect(rules.filter((r) => r.type === 'alerting').map((r) => r.name)).toContain('ImAcksStalled');
    // A healthy stack pages nobody.
    expect(
      rules.filter((r) => r.type === 'alerting' && r.state === 'firing' && r.name.startsWith('Im')),
    ).toEqual([]);
  });
});
