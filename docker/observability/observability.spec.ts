import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The Prometheus rules and the Grafana dashboard against promtool (Debian's `prometheus`
 * package; `bash docker/local/bootstrap.sh` installs it) and against the metric names the
 * services really register. The real-Prometheus check is test/e2e/prometheus.e2e-spec.ts.
 */
const ROOT = join(__dirname, '..', '..');
const HERE = __dirname;
const RULES = join(HERE, 'rules', 'im-rules.yml');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  annotations?: Record<string, string>;
}
const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
const alerts = rules.filter((r) => r.alert);

interface Panel {
  title: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(join(HERE, 'grafana', 'im-dashboard.json'), 'utf8')) as {
  panels: Panel[];
};
const panelExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
);

function promtool(...args: string[]) {
  const run = spawnSync('promtool', args, { cwd: join(HERE, 'rules'), encoding: 'utf8' });
  if (run.error)
    throw new Error(`promtool is missing (bash docker/local/bootstrap.sh installs it): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Every metric the services register, from the `metrics.counter|gauge|histogram('name', …)` calls. */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry === 'client-sdk') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.spec.ts'))
        for (const m of readFileSync(path, 'utf8').matchAll(
          /metrics\.(counter|gauge|histogram)\(\s*'([a-z_:][a-z0-9_:]*)'/g,
        )) {
          names.add(m[2]);
          if (m[1] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[2] + s);
        }
    }
  };
  walk(join(ROOT, 'apps'));
  walk(join(ROOT, 'libs'));
  return names;
}

/** The metric names a PromQL expression reads (ours all start with im_, im:, process_ or nodejs_). */
const metricsIn = (expr: string) =>
  [...expr.matchAll(/\b(im[_:][a-z0-9_:]+|process_[a-z_]+|nodejs_[a-z_]+)/g)].map((m) => m[1]);

/** Series Prometheus or kube-state-metrics make, not the services. */
const EXTERNAL = new Set(['up', 'kube_pod_status_ready']);

describe('Prometheus rules and Grafana dashboard', () => {
  const registered = registeredMetrics();

  it('promtool accepts the rules and their unit tests pass', () => {
    const checked = promtool('check', 'rules', 'im-rules.yml');
    expect([checked.status, checked.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
    const tested = promtool('test', 'rules', 'im-rules.test.yml');
    expect([tested.status, tested.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it('every alert is unit-tested and has a runbook line in the README', () => {
    const tests = readFileSync(join(HERE, 'rules', 'im-rules.test.yml'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const runbook = readme.slice(readme.indexOf('## Alerts and runbook'));
    expect(readme).toContain('## Alerts and runbook');
    for (const { alert } of alerts) {
      expect([alert, tests.includes(`alertname: ${alert}`)]).toEqual([alert, true]);
      expect([alert, runbook.includes(`\`${alert}\``)]).toEqual([alert, true]);
    }
  });

  it('the rules read only metrics the services register', () => {
    for (const rule of rules)
      for (const name of metricsIn(rule.expr))
        expect([rule.record ?? rule.alert, name, registered.has(name) || recorded.has(name)]).toEqual([
          rule.record ?? rule.alert,
          name,
          true,
        ]);
  });

  it('every dashboard query parses and reads only recorded or registered metrics', () => {
    for (const { panel, expr } of panelExprs) {
      for (const name of metricsIn(expr))
        expect([panel, name, registered.has(name) || recorded.has(name)]).toEqual([panel, name, true]);
      const external = [...expr.matchAll(/\b([a-z_]+)\{/g)]
        .map((m) => m[1])
        .filter((n) => !/^(im|process|nodejs)_/.test(n));
      for (const name of external) expect([panel, name, EXTERNAL.has(name)]).toEqual([panel, name, true]);
    }
    // promtool parses each query as a recording rule.
    const dir = mkdtempSync(join(tmpdir(), 'im-dashboard-'));
    const asRules = {
      groups: [
        {
          name: 'dashboard',
          rules: panelExprs.map((p, i) => ({ record: `dashboard:query_${i}`, expr: p.expr })),
        },
      ],
    };
    writeFileSync(join(dir, 'dashboard-rules.yml'), JSON.stringify(asRules));
    const checked = promtool('check', 'rules', join(dir, 'dashboard-rules.yml'));
    expect([checked.status, checked.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it('the dashboard shows the service-level panels', () => {
    const all = panelExprs.map((p) => p.expr).join('\n');
    for (const needed of [
      'im:send_to_ack_seconds:p99',
      'im:send_to_push_seconds:p99',
      'im:messages_accepted:rate1m',
      'im:consumer_lag:sum',
      'im:connections:sum',
      'im:errors:rate5m',
    ])
      expect(all).toContain(needed);
  });

  it('the local Prometheus config scrapes the four services with their `service` label', () => {
    const checked = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], {
      cwd: HERE,
      encoding: 'utf8',
    });
    expect(checked.status).toBe(0);
    const config = parse(readFileSync(join(HERE, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs: { labels: { service: string } }[] }[];
    };
    const services = config.scrape_configs.flatMap((s) => s.static_configs.map((c) => c.labels.service));
    expect(services.sort()).toEqual(['delivery', 'gateway', 'sequencer', 'storage']);
    // Kubernetes: the service label comes from the pod label the manifests set.
    const k8s = readFileSync(join(HERE, 'prometheus-k8s.yml'), 'utf8');
    expect(k8s).toContain('__meta_kubernetes_pod_label_app_kubernetes_io_name');
  });
});
