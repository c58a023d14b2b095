/**
 * Checks the deployment files without a Docker engine or a cluster: docker/Dockerfile (and its
 * entry point), docker/compose.yaml and the Kubernetes manifests of docker/k8s. The manifests'
 * environment is resolved the way the kubelet does (envFrom, then env) and run through the
 * services' own configuration validation.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join, posix, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { AppConfig, ConfigError, loadConfig } from '@im/config';
import { TOPIC_NAMES } from '@im/messaging';
import { tracesUrl } from '@im/tracing';

const ROOT = resolve(__dirname, '..');
const DOCKER = join(ROOT, 'docker');
const K8S = join(DOCKER, 'k8s');
const ENTRYPOINT = join(DOCKER, 'entrypoint.sh');

const APPS = ['gateway', 'sequencer', 'storage', 'delivery'] as const;
type App = (typeof APPS)[number];
type PortVariable = 'GATEWAY_PORT' | 'SEQUENCER_PORT' | 'STORAGE_PORT' | 'DELIVERY_PORT';
const PORT_VARIABLE: Record<App, PortVariable> = {
  gateway: 'GATEWAY_PORT',
  sequencer: 'SEQUENCER_PORT',
  storage: 'STORAGE_PORT',
  delivery: 'DELIVERY_PORT',
};
const DEFAULT_PORT = (app: App): number => new AppConfig()[PORT_VARIABLE[app]];
/** Values that pass validation, standing in for what an operator puts in the Secret. */
const REAL_SECRETS = { ADMIN_TOKEN: 'a'.repeat(32), JWT_SECRET: 'b'.repeat(32) };
const HORIZONTAL: readonly App[] = ['gateway', 'delivery'];

// ---------------------------------------------------------------- Kubernetes object shapes

type Labels = Record<string, string>;
interface Meta {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}
interface PodTemplate {
  metadata: Meta;
  spec: {
    containers: Container[];
    restartPolicy?: string;
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  file: string;
}
interface Deployment extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Labels }; template: PodTemplate };
}
interface Service extends K8sObject {
  spec: { selector: Labels; ports: { name?: string; port: number; targetPort?: number | string }[] };
}
interface Pdb extends K8sObject {
  spec: {
    selector: { matchLabels: Labels };
    minAvailable?: number | string;
    maxUnavailable?: number | string;
  };
}
interface Hpa extends K8sObject {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: {
      type: string;
      resource?: { name: string; target: { type: string; averageUtilization?: number } };
    }[];
  };
}
interface Job extends K8sObject {
  spec: { template: PodTemplate };
}
interface DataObject extends K8sObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Kustomization {
  resources: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

function loadManifests(): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const file of manifestFiles()) {
    for (const doc of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const value = doc.toJS() as Omit<K8sObject, 'file'> | null;
      if (value !== null) objects.push({ ...value, file });
    }
  }
  return objects;
}

function manifestFiles(): string[] {
  return readdirSync(K8S)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort();
}

const k8s = loadManifests();
const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as Kustomization;
const ofKind = <T extends K8sObject>(kind: string): T[] => k8s.filter((o) => o.kind === kind) as T[];
const deployments = ofKind<Deployment>('Deployment');
const services = ofKind<Service>('Service');
const pdbs = ofKind<Pdb>('PodDisruptionBudget');
const hpas = ofKind<Hpa>('HorizontalPodAutoscaler');
const configMaps = ofKind<DataObject>('ConfigMap');
const secrets = ofKind<DataObject>('Secret');

function deployment(app: App): Deployment {
  const found = deployments.filter((d) => d.metadata.name === app);
  if (found.length !== 1) throw new Error(`expected one Deployment ${app}, found ${found.length}`);
  return found[0];
}
function mainContainer(app: App): Container {
  const containers = deployment(app).spec.template.spec.containers;
  if (containers.length !== 1) throw new Error(`${app}: expected one container, found ${containers.length}`);
  return containers[0];
}
/** The containerPort a probe or Service port refers to (by name or number), or undefined. */
function resolvePort(container: Container, ref: number | string | undefined): number | undefined {
  const port = (container.ports ?? []).find((p) => p.name === ref || p.containerPort === ref);
  return port?.containerPort;
}
const selects = (selector: Labels, labels: Labels | undefined): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
/** A ConfigMap's or Secret's values (a Secret's `data` is base64, its `stringData` plain). */
const dataOf = (o: DataObject): Record<string, string> => ({
  ...Object.fromEntries(
    Object.entries(o.data ?? {}).map(([k, v]) => [
      k,
      o.kind === 'Secret' ? Buffer.from(v, 'base64').toString() : v,
    ]),
  ),
  ...(o.stringData ?? {}),
});
function byName(list: DataObject[], name: string, namespace: string | undefined): DataObject {
  const found = list.find((o) => o.metadata.name === name && o.metadata.namespace === namespace);
  if (!found) throw new Error(`no ${list[0]?.kind ?? 'object'} ${name} in namespace ${namespace}`);
  return found;
}

type EnvSource = 'literal' | 'configmap' | 'secret' | 'field';
interface ResolvedVar {
  source: EnvSource;
  value?: string;
  field?: string;
}
/** The container's environment as the kubelet builds it: envFrom in order, then env wins. */
function resolveEnv(container: Container, namespace: string | undefined): Map<string, ResolvedVar> {
  const env = new Map<string, ResolvedVar>();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      for (const [k, v] of Object.entries(dataOf(byName(configMaps, from.configMapRef.name, namespace))))
        env.set(k, { source: 'configmap', value: v });
    }
    if (from.secretRef) {
      for (const [k, v] of Object.entries(dataOf(byName(secrets, from.secretRef.name, namespace))))
        env.set(k, { source: 'secret', value: v });
    }
  }
  for (const v of container.env ?? []) {
    if (v.value !== undefined) env.set(v.name, { source: 'literal', value: v.value });
    else if (v.valueFrom?.fieldRef)
      env.set(v.name, { source: 'field', field: v.valueFrom.fieldRef.fieldPath });
    else if (v.valueFrom?.secretKeyRef) {
      const ref = v.valueFrom.secretKeyRef;
      const data = dataOf(byName(secrets, ref.name, namespace));
      if (!(ref.key in data)) throw new Error(`${v.name}: Secret ${ref.name} has no key ${ref.key}`);
      env.set(v.name, { source: 'secret', value: data[ref.key] });
    } else if (v.valueFrom?.configMapKeyRef) {
      const ref = v.valueFrom.configMapKeyRef;
      const data = dataOf(byName(configMaps, ref.name, namespace));
      if (!(ref.key in data)) throw new Error(`${v.name}: ConfigMap ${ref.name} has no key ${ref.key}`);
      env.set(v.name, { source: 'configmap', value: data[ref.key] });
    } else throw new Error(`${v.name}: no value`);
  }
  return env;
}
/** Plain environment of a pod called podName, optionally with some values replaced. */
function podEnv(
  resolved: Map<string, ResolvedVar>,
  podName: string,
  replace: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of resolved) {
    if (v.source === 'field') {
      if (v.field !== 'metadata.name') throw new Error(`${k}: unsupported fieldRef ${v.field}`);
      out[k] = podName;
    } else out[k] = v.value ?? '';
  }
  return { ...out, ...replace };
}

const CPU = (q: string | number | undefined): number =>
  q === undefined ? NaN : String(q).endsWith('m') ? Number(String(q).slice(0, -1)) / 1000 : Number(q);
const UNITS: Record<string, number> = {
  '': 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};
function MEMORY(q: string | number | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(String(q ?? ''));
  return m ? Number(m[1]) * UNITS[m[2] ?? ''] : NaN;
}
const minReplicas = (app: App): number =>
  hpas.find((h) => h.spec.scaleTargetRef.name === app)?.spec.minReplicas ??
  deployment(app).spec.replicas ??
  1;
/** The services' settings; the other ConfigMap is the Prometheus rules (docker/observability). */
const configMap = (): Record<string, string> => {
  const settings = configMaps.filter((c) => c.metadata.name === 'im-config');
  if (settings.length !== 1) throw new Error(`expected one ConfigMap im-config, found ${settings.length}`);
  return dataOf(settings[0]);
};

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}
function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let buffer = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue; // comments and parser directives, also inside continuations
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (buffer + line).trim();
    buffer = '';
    const m = /^(\w+)\s+([\s\S]*)$/.exec(full);
    if (m) instructions.push({ op: m[1].toUpperCase(), args: m[2].trim() });
  }
  const stages: Stage[] = [];
  for (const i of instructions) {
    if (i.op === 'FROM') {
      const [image, as, name] = i.args.split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else stages.at(-1)?.instructions.push(i);
  }
  return stages;
}
const args = (stage: Stage, op: string): string[] =>
  stage.instructions.filter((i) => i.op === op).map((i) => i.args);
/** `COPY [--flags] src... dest` → flags, sources and the destination resolved against WORKDIR. */
function copies(stage: Stage): { from?: string; sources: string[]; dest: string }[] {
  let workdir = '/';
  const out: { from?: string; sources: string[]; dest: string }[] = [];
  for (const i of stage.instructions) {
    if (i.op === 'WORKDIR') workdir = posix.resolve(workdir, i.args);
    if (i.op !== 'COPY') continue;
    const tokens = i.args.split(/\s+/);
    const flags = tokens.filter((t) => t.startsWith('--'));
    const rest = tokens.filter((t) => !t.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    out.push({ from, sources: rest.slice(0, -1), dest: posix.resolve(workdir, rest.at(-1) ?? '') });
  }
  return out;
}
const jsonForm = (text: string): string[] => JSON.parse(text) as string[];
const dockerStages = parseDockerfile(readFileSync(join(DOCKER, 'Dockerfile'), 'utf8'));
const runtimeStage = (): Stage => {
  const last = dockerStages.at(-1);
  if (!last) throw new Error('Dockerfile has no stage');
  return last;
};
/** Where the image keeps docker/entrypoint.sh, from the runtime stage's COPY instructions. */
function entrypointInImage(): string | undefined {
  const copy = copies(runtimeStage()).find((c) => !c.from && c.sources.includes('docker/entrypoint.sh'));
  if (!copy) return undefined;
  return copy.sources.length === 1 && !copy.dest.endsWith('/')
    ? copy.dest
    : posix.join(copy.dest, 'entrypoint.sh');
}

// ---------------------------------------------------------------- processes

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}
function run(command: string, argv: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((done) => {
    execFile(command, argv, { env, cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      done({ code, stdout, stderr });
    });
  });
}
const baseEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: ROOT });

// =============================================================================================

/** These checks need the build: without it they would prove nothing, so they fail and say why. */
function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist', 'apps')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test builds before it tests)');
}

describe('Kubernetes manifests (docker/k8s)', () => {
  it('kustomization.yaml lists every manifest file, and only existing ones', () => {
    expect([...kustomization.resources].sort()).toEqual(manifestFiles());
    for (const file of kustomization.resources) expect(existsSync(join(K8S, file))).toBe(true);
  });

  it('every object is complete and lives in the one Namespace', () => {
    const namespaces = ofKind<K8sObject>('Namespace');
    expect(namespaces).toHaveLength(1);
    for (const o of k8s) {
      expect([o.file, typeof o.apiVersion, typeof o.kind, typeof o.metadata?.name]).toEqual([
        o.file,
        'string',
        'string',
        'string',
      ]);
      if (o.kind !== 'Namespace')
        expect([o.file, o.kind, o.metadata.namespace]).toEqual([o.file, o.kind, namespaces[0].metadata.name]);
    }
  });

  it('deploys exactly the services under apps/', () => {
    const apps = readdirSync(join(ROOT, 'apps')).filter((d) =>
      existsSync(join(ROOT, 'apps', d, 'src', 'main.ts')),
    );
    expect(apps.sort()).toEqual([...APPS].sort());
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...APPS].sort());
  });

  describe.each(APPS)('%s', (app) => {
    it('selects its own pod template', () => {
      const d = deployment(app);
      expect(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
      for (const other of deployments.filter((o) => o !== d))
        expect(selects(d.spec.selector.matchLabels, other.spec.template.metadata.labels)).toBe(false);
    });

    it('listens on its default port and probes it: readiness /health/ready, liveness /health/live', () => {
      const c = mainContainer(app);
      expect(c.ports?.map((p) => p.containerPort)).toEqual([DEFAULT_PORT(app)]);
      expect(c.readinessProbe?.httpGet?.path).toBe('/health/ready');
      expect(c.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(resolvePort(c, c.readinessProbe?.httpGet?.port)).toBe(DEFAULT_PORT(app));
      expect(resolvePort(c, c.livenessProbe?.httpGet?.port)).toBe(DEFAULT_PORT(app));
    });

    it('has cpu and memory requests and limits, requests within limits', () => {
      const r = mainContainer(app).resources;
      for (const kind of ['cpu', 'memory'] as const) {
        const parseQ = kind === 'cpu' ? CPU : MEMORY;
        const request = parseQ(r?.requests?.[kind]);
        const limit = parseQ(r?.limits?.[kind]);
        expect([kind, Number.isFinite(request) && request > 0]).toEqual([kind, true]);
        expect([kind, Number.isFinite(limit) && limit >= request]).toEqual([kind, true]);
      }
    });

    it('gets its secrets from the Secret, the URLs and brokers, APP, its port variable and INSTANCE_ID', () => {
      const c = mainContainer(app);
      const env = resolveEnv(c, deployment(app).metadata.namespace);
      expect(env.get('ADMIN_TOKEN')?.source).toBe('secret');
      expect(env.get('JWT_SECRET')?.source).toBe('secret');
      for (const name of ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS']) {
        expect([name, env.get(name)?.value ? 'set' : 'missing']).toEqual([name, 'set']);
      }
      expect(env.get('DATABASE_URL')?.source).toBe('secret'); // it carries a password
      expect(env.get('APP')).toEqual({ source: 'literal', value: app });
      expect(env.get(PORT_VARIABLE[app])).toEqual({
        source: 'literal',
        value: String(c.ports?.[0]?.containerPort),
      });
      expect(env.get('INSTANCE_ID')).toEqual({ source: 'field', field: 'metadata.name' });
    });

    it("passes the services' configuration validation once the Secret is filled in", () => {
      const podName = `${app}-7c9d8f6b5-x2x7q`;
      const env = podEnv(
        resolveEnv(mainContainer(app), deployment(app).metadata.namespace),
        podName,
        REAL_SECRETS,
      );
      const config = loadConfig(env);
      expect(config[PORT_VARIABLE[app]]).toBe(mainContainer(app).ports?.[0]?.containerPort);
      expect(config.INSTANCE_ID).toBe(podName);
      expect(config.NODE_ENV).toBe('production');
    });

    it('is scraped by Prometheus at /metrics on its port', () => {
      const annotations = deployment(app).spec.template.metadata.annotations ?? {};
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(annotations['prometheus.io/path']).toBe('/metrics');
      expect(Number(annotations['prometheus.io/port'])).toBe(DEFAULT_PORT(app));
    });

    it('has one Service that selects its pods, and only its pods, on its port', () => {
      const labels = deployment(app).spec.template.metadata.labels;
      const mine = services.filter((s) => selects(s.spec.selector, labels));
      expect(mine.map((s) => s.metadata.name)).toEqual([app]);
      for (const other of deployments.filter((d) => d.metadata.name !== app))
        expect(selects(mine[0].spec.selector, other.spec.template.metadata.labels)).toBe(false);
      const port = mine[0].spec.ports[0];
      expect(mine[0].spec.ports).toHaveLength(1);
      expect(port.port).toBe(DEFAULT_PORT(app));
      expect(resolvePort(mainContainer(app), port.targetPort ?? port.port)).toBe(DEFAULT_PORT(app));
    });

    it('has one PodDisruptionBudget for its pods that still lets a node drain', () => {
      const labels = deployment(app).spec.template.metadata.labels;
      const mine = pdbs.filter((p) => selects(p.spec.selector.matchLabels, labels));
      expect(mine).toHaveLength(1);
      const { maxUnavailable, minAvailable } = mine[0].spec;
      if (maxUnavailable !== undefined) expect(Number(maxUnavailable)).toBeGreaterThanOrEqual(1);
      else expect(Number(minAvailable)).toBeLessThan(minReplicas(app));
    });

    it('runs as the non-root user of the image, with the image docker/Dockerfile builds', () => {
      const pod = deployment(app).spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      const user = args(runtimeStage(), 'USER').at(-1)?.split(':')[0];
      expect(pod.securityContext?.runAsUser).toBe(Number(user));
      expect(kustomization.images?.map((i) => i.name)).toContain(mainContainer(app).image.split(':')[0]);
    });
  });

  it('the gateway sleeps in preStop, then has time to close its WebSockets (1001) before SIGKILL', () => {
    const c = mainContainer('gateway');
    const preStop = c.lifecycle?.preStop;
    const command = preStop?.exec?.command ?? [];
    const sleep = preStop?.sleep?.seconds ?? (command[0] === 'sleep' ? Number(command[1]) : NaN);
    expect(sleep).toBeGreaterThan(0);
    const grace = deployment('gateway').spec.template.spec.terminationGracePeriodSeconds ?? 30;
    expect(grace).toBeGreaterThanOrEqual(sleep + 20);
  });

  it('HorizontalPodAutoscalers (autoscaling/v2, CPU) scale the gateway and delivery Deployments', () => {
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual([...HORIZONTAL].sort());
    for (const h of hpas) {
      const target = h.spec.scaleTargetRef;
      expect(h.apiVersion).toBe('autoscaling/v2');
      expect([target.apiVersion, target.kind]).toEqual(['apps/v1', 'Deployment']);
      const d = deployment(target.name as App);
      expect(h.metadata.namespace).toBe(d.metadata.namespace);
      expect(
        h.spec.metrics?.some((m) => m.resource?.name === 'cpu' && m.resource.target.type === 'Utilization'),
      ).toBe(true);
      expect(CPU(d.spec.template.spec.containers[0].resources?.requests?.cpu)).toBeGreaterThan(0);
      expect(h.spec.minReplicas ?? 1).toBeGreaterThanOrEqual(1);
      expect(h.spec.maxReplicas).toBeGreaterThanOrEqual(h.spec.minReplicas ?? 1);
      // `kubectl apply` would reset the autoscaler's count to a replicas field.
      expect([target.name, d.spec.replicas]).toEqual([target.name, undefined]);
    }
  });

  it('Kafka consumers never get more replicas than the topics have partitions', () => {
    const partitions = Number(configMap().KAFKA_PARTITIONS);
    expect(partitions).toBeGreaterThanOrEqual(1);
    for (const app of ['sequencer', 'storage', 'delivery'] as const) {
      const max =
        hpas.find((h) => h.spec.scaleTargetRef.name === app)?.spec.maxReplicas ??
        deployment(app).spec.replicas;
      expect([app, (max ?? 1) <= partitions]).toEqual([app, true]);
    }
  });

  it('the ConfigMap holds only known, non-secret settings; min.insync.replicas fits the replication factor', () => {
    const known = new Set(Object.keys(new AppConfig()));
    const data = configMap();
    for (const key of Object.keys(data)) expect([key, known.has(key)]).toEqual([key, true]);
    for (const secret of ['ADMIN_TOKEN', 'JWT_SECRET', 'JWT_PRIVATE_KEY', 'DATABASE_URL'])
      expect(Object.keys(data)).not.toContain(secret);
    expect(Number(data.KAFKA_MIN_INSYNC_REPLICAS)).toBeLessThanOrEqual(Number(data.KAFKA_REPLICATION_FACTOR));
  });

  it('the ConfigMap carries the OTLP settings: traces off as shipped, on once the endpoint is filled in', () => {
    const data = configMap();
    expect(Object.keys(data)).toEqual(
      expect.arrayContaining(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_SAMPLER_ARG']),
    );
    const env = { ADMIN_TOKEN: 'a'.repeat(32), JWT_SECRET: 'b'.repeat(32), ...data };
    expect(tracesUrl(loadConfig(env))).toBeUndefined();
    const on = loadConfig({
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4318',
    });
    expect(tracesUrl(on)).toBe('http://otel-collector.observability:4318/v1/traces');
    expect(on.OTEL_TRACES_SAMPLER_ARG).toBe(Number(data.OTEL_TRACES_SAMPLER_ARG));
  });

  it('the Prometheus rules ship as a plain ConfigMap (no CRDs), the same as docker/observability/rules', () => {
    const rules = configMaps.filter((c) => c.metadata.name === 'im-prometheus-rules');
    expect(rules).toHaveLength(1);
    const shipped = dataOf(rules[0])['im-rules.yml'];
    const source = readFileSync(join(DOCKER, 'observability', 'rules', 'im-rules.yml'), 'utf8');
    // After changing the rules: node docker/observability/rules-configmap.mjs
    expect(shipped.trimEnd()).toBe(source.trimEnd());
    expect(k8s.map((o) => o.kind)).not.toContain('PrometheusRule');
  });

  it("the Secret's placeholders are marked and refused by validation, so an unedited Secret cannot run", () => {
    expect(secrets).toHaveLength(1);
    const data = dataOf(secrets[0]);
    for (const key of ['ADMIN_TOKEN', 'JWT_SECRET'])
      expect([key, data[key]]).toEqual([key, expect.stringMatching(/REPLACE/)]);
    const env = podEnv(
      resolveEnv(mainContainer('gateway'), deployment('gateway').metadata.namespace),
      'gateway-x',
    );
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/ADMIN_TOKEN[\s\S]*JWT_SECRET/);
  });

  it('the topic Job creates every topic with the configured partitions, replication and min.insync', () => {
    const jobs = ofKind<Job>('Job');
    expect(jobs).toHaveLength(1);
    const pod = jobs[0].spec.template.spec;
    expect(['OnFailure', 'Never']).toContain(pod.restartPolicy);
    const c = pod.containers[0];
    const script = [...(c.command ?? []), ...(c.args ?? [])].join('\n');
    for (const topic of TOPIC_NAMES) expect(script).toMatch(new RegExp(`\\b${topic}\\b`));
    for (const variable of [
      'KAFKA_TOPIC_PREFIX',
      'KAFKA_PARTITIONS',
      'KAFKA_REPLICATION_FACTOR',
      'KAFKA_MIN_INSYNC_REPLICAS',
    ])
      expect(script).toContain(`$${variable}`);
    expect(script).toMatch(/--bootstrap-server\s+"\$KAFKA_BROKERS"/);
    expect(script).toContain('--if-not-exists');
    expect(script).toMatch(/min\.insync\.replicas=/);
    // Every upper-case variable the script reads is set in the container.
    const env = resolveEnv(c, jobs[0].metadata.namespace);
    for (const [, name] of script.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g))
      expect([name, env.has(name)]).toEqual([name, true]);
    expect(CPU(c.resources?.limits?.cpu)).toBeGreaterThan(0);
    expect(MEMORY(c.resources?.limits?.memory)).toBeGreaterThan(0);
  });
});

// =============================================================================================

describe('docker/compose.yaml', () => {
  interface ComposeService {
    image?: string;
    build?: { context: string; dockerfile: string };
    environment?: Record<string, string | number>;
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: string[] | string };
    ports?: string[];
  }
  const compose = parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const INFRA = ['kafka', 'postgres', 'redis'];
  /** Compose interpolation of ${VAR}, ${VAR:-default} and ${VAR:?error} from vars. */
  const interpolate = (value: string, vars: Record<string, string>): string =>
    value.replace(/\$\{(\w+)(?::?[-?]([^}]*))?\}/g, (_, name: string, rest: string | undefined) => {
      if (name in vars) return vars[name];
      if (rest !== undefined) return rest;
      throw new Error(`\${${name}} is not set`);
    });

  it('runs the four services and Kafka, PostgreSQL and Redis, each with a healthcheck', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...APPS, ...INFRA].sort());
    for (const [name, s] of Object.entries(compose.services)) {
      const test = s.healthcheck?.test;
      expect([name, Array.isArray(test) ? test.length > 1 : Boolean(test)]).toEqual([name, true]);
    }
  });

  describe.each(APPS)('%s', (app) => {
    const s = (): ComposeService => compose.services[app];

    it('builds docker/Dockerfile from the repository root and waits for healthy Kafka, PostgreSQL and Redis', () => {
      const build = s().build;
      const context = resolve(DOCKER, build?.context ?? '.');
      expect(context).toBe(ROOT);
      expect(existsSync(join(context, build?.dockerfile ?? ''))).toBe(true);
      expect(resolve(context, build?.dockerfile ?? '')).toBe(join(DOCKER, 'Dockerfile'));
      for (const dep of INFRA)
        expect([dep, s().depends_on?.[dep]?.condition]).toEqual([dep, 'service_healthy']);
    });

    it('its healthcheck runs the entry point the image contains', () => {
      const test = s().healthcheck?.test;
      expect(Array.isArray(test) ? test : [test]).toContain(entrypointInImage());
    });

    it('its environment passes validation, needs the secrets from the caller and reaches the other containers', () => {
      const raw = Object.fromEntries(Object.entries(s().environment ?? {}).map(([k, v]) => [k, String(v)]));
      expect(raw.ADMIN_TOKEN).toMatch(/^\$\{ADMIN_TOKEN:\?/);
      expect(raw.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
      const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(v, REAL_SECRETS)]));
      expect(env.APP).toBe(app);
      const config = loadConfig(env);
      expect(config[PORT_VARIABLE[app]]).toBe(DEFAULT_PORT(app));
      expect(config.KAFKA_BROKERS.split(',').map((b) => b.split(':')[0])).toEqual(['kafka']);
      expect(new URL(config.DATABASE_URL).hostname).toBe('postgres');
      expect(new URL(config.REDIS_URL).hostname).toBe('redis');
    });
  });

  it('publishes the gateway port', () => {
    expect(compose.services.gateway.ports).toContain(`${DEFAULT_PORT('gateway')}:${DEFAULT_PORT('gateway')}`);
  });
});

// =============================================================================================

describe('docker/Dockerfile and docker/entrypoint.sh', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const entrypoint = readFileSync(ENTRYPOINT, 'utf8');
  const stage = (name: string): Stage => {
    const found = dockerStages.find((s) => s.name === name);
    if (!found) throw new Error(`no stage ${name}`);
    return found;
  };
  /** The stage that runs `npm run build`. */
  const buildStage = (): Stage => {
    const found = dockerStages.filter((s) => args(s, 'RUN').some((r) => /\bnpm run build\b/.test(r)));
    if (found.length !== 1)
      throw new Error(`expected one stage running npm run build, found ${found.length}`);
    return found[0];
  };

  it('builds in a build stage (npm ci, npm run build) and runs from a node:24-slim runtime stage', () => {
    expect(dockerStages.length).toBeGreaterThanOrEqual(2);
    const build = buildStage();
    expect(build.name).toBeDefined();
    expect(args(build, 'RUN').some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runtimeStage()).not.toBe(build);
    expect(runtimeStage().image).toBe('node:24-slim');
    expect(args(runtimeStage(), 'RUN').join('\n')).not.toMatch(/npm run build/);
  });

  it('runs as a non-root user', () => {
    const user = args(runtimeStage(), 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user?.split(':')[0]).not.toMatch(/^(root|0)$/);
  });

  it('ships production dependencies only, tsconfig-paths among them (the entry point requires it)', () => {
    const modules = copies(runtimeStage()).find((c) => c.sources.some((src) => src.endsWith('node_modules')));
    expect(modules?.from).toBeDefined();
    expect(args(stage(modules?.from ?? ''), 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(entrypoint).toMatch(/node -r tsconfig-paths\/register /);
    expect(pkg.dependencies?.['tsconfig-paths']).toBeDefined();
    expect(pkg.devDependencies?.['tsconfig-paths']).toBeUndefined();
  });

  it('copies tsconfig.json (path aliases) and, from the build stage, the dist folders the services load', () => {
    const runtime = copies(runtimeStage());
    const workdir = args(runtimeStage(), 'WORKDIR').at(-1) ?? '/';
    expect(runtime.filter((c) => !c.from).flatMap((c) => c.sources)).toContain('tsconfig.json');
    const built = runtime.filter((c) => c.from !== undefined && c.from === buildStage().name);
    const buildWorkdir = args(buildStage(), 'WORKDIR').at(-1) ?? '/';
    // dist/apps and dist/libs: the services and libraries; dist/demo: served by the gateway.
    for (const dir of ['dist/apps', 'dist/libs', 'dist/demo']) {
      const copy = built.find((c) => c.sources.includes(posix.join(buildWorkdir, dir)));
      expect([dir, copy?.dest]).toEqual([dir, posix.join(workdir, dir)]);
    }
  });

  it('takes from the build context only files that exist', () => {
    const sources = dockerStages.flatMap((s) => copies(s).filter((c) => !c.from)).flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) expect([src, existsSync(join(ROOT, src))]).toEqual([src, true]);
  });

  it('enters through docker/entrypoint.sh and exposes every service port', () => {
    const inImage = entrypointInImage();
    expect(inImage).toBeDefined();
    expect(jsonForm(args(runtimeStage(), 'ENTRYPOINT').at(-1) ?? '[]')).toContain(inImage);
    const exposed = (args(runtimeStage(), 'EXPOSE').at(-1) ?? '').split(/\s+/).map(Number);
    for (const app of APPS) expect(exposed).toContain(DEFAULT_PORT(app));
  });

  it('its HEALTHCHECK asks /health/live through the entry point', () => {
    const healthcheck = args(runtimeStage(), 'HEALTHCHECK').at(-1) ?? '';
    const command = jsonForm(healthcheck.replace(/^.*?\bCMD\s+/, ''));
    expect(command).toContain(entrypointInImage());
    expect(command.at(-1)).toBe('live');
    expect(entrypoint).toMatch(/live \| ready\)/);
    expect(entrypoint).toContain('/health/$1');
  });

  it('the entry point starts dist/apps/<APP>/src/main.js, and npm run build produces it for every app', () => {
    expect(entrypoint).toContain('"dist/apps/$APP/src/main.js"');
    for (const app of APPS)
      expect(entrypoint).toMatch(
        new RegExp(`^\\s*${app}\\) PORT=\\$\\{${PORT_VARIABLE[app]}:-${DEFAULT_PORT(app)}\\}`, 'm'),
      );
    requireBuild();
    for (const app of APPS) {
      const main = join(ROOT, 'dist', 'apps', app, 'src', 'main.js');
      expect([main, existsSync(main)]).toEqual([main, true]);
    }
  });

  describe('run', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        res.statusCode = req.url === '/health/live' ? 200 : 503;
        res.end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('live / ready answer from /health/live and /health/ready on the port of the APP', async () => {
      const env = { ...baseEnv(), APP: 'storage', STORAGE_PORT: String(port), GATEWAY_PORT: '1' };
      expect((await run('sh', [ENTRYPOINT, 'live'], env)).code).toBe(0);
      expect((await run('sh', [ENTRYPOINT, 'ready'], env)).code).toBe(1); // this server says 503
      expect((await run('sh', [ENTRYPOINT, 'live'], { ...env, APP: 'gateway' })).code).toBe(1);
    });

    it('refuses an unknown APP', async () => {
      const outcome = await run('sh', [ENTRYPOINT], { ...baseEnv(), APP: 'nope' });
      expect(outcome.code).toBe(64);
      expect(outcome.stderr).toMatch(/APP must be gateway, sequencer, storage or delivery/);
    });

    it('starts each built service with its @im/* aliases resolved (it reaches config validation)', async () => {
      requireBuild();
      // No ADMIN_TOKEN: each service loads all its modules, then stops with exit 78 before any I/O.
      const outcomes = await Promise.all(
        APPS.map((app) => run('sh', [ENTRYPOINT], { ...baseEnv(), APP: app })),
      );
      outcomes.forEach((outcome, i) => {
        expect([APPS[i], outcome.code, outcome.stderr]).toEqual([
          APPS[i],
          78,
          expect.stringContaining(`[${APPS[i]}] Invalid configuration`),
        ]);
      });
    });
  });
});
