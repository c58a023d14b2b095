/**
 * Runs the four services as separate local processes (used by `npm start`, the end-to-end
 * tests and the benchmarks). Expects a built tree (`npm run build`) and a running broker.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

export const SERVICES = ['sequencer', 'storage', 'delivery', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

const PORT_VARIABLE: Record<ServiceName, string> = {
  gateway: 'GATEWAY_PORT',
  sequencer: 'SEQUENCER_PORT',
  storage: 'STORAGE_PORT',
  delivery: 'DELIVERY_PORT',
};

export interface StackOptions {
  /** Environment shared by every service (secrets, URLs, prefixes). */
  env: Record<string, string>;
  /** Instances per service, default 1 each. */
  instances?: Partial<Record<ServiceName, number>>;
  /** First port; instances get consecutive ports from here. */
  basePort: number;
  logDir: string;
  /** Echo service output to this process's stdout. */
  echo?: boolean;
  /** Flags for each service's node (e.g. `--cpu-prof`, which NODE_OPTIONS may not carry). */
  nodeArgs?: string[];
  /** Flags for one service's instances only (e.g. `--inspect` on the gateway). */
  nodeArgsOf?: Partial<Record<ServiceName, string[]>>;
}

export interface ServiceInstance {
  name: ServiceName;
  index: number;
  port: number;
  instanceId: string;
  process?: ChildProcess;
}

/** The repository root, whether this runs from source (docker/local) or built (dist/docker/local). */
export const ROOT = resolve(
  __dirname,
  ...(__dirname.split(sep).includes('dist') ? ['..', '..', '..'] : ['..', '..']),
);

export class LocalStack {
  readonly instances: ServiceInstance[] = [];

  constructor(private readonly options: StackOptions) {
    // Unique per stack: two stacks of one process must not share gateway channels in Redis.
    const stackId = randomBytes(3).toString('hex');
    let port = options.basePort;
    for (const name of SERVICES) {
      const count = options.instances?.[name] ?? 1;
      for (let index = 0; index < count; index++) {
        this.instances.push({ name, index, port: port++, instanceId: `${name}-${index}-${stackId}` });
      }
    }
    mkdirSync(options.logDir, { recursive: true });
  }

  get(name: ServiceName, index = 0): ServiceInstance {
    const found = this.instances.find((i) => i.name === name && i.index === index);
    if (!found) throw new Error(`no instance ${name}#${index}`);
    return found;
  }

  gatewayUrls(): string[] {
    return this.instances.filter((i) => i.name === 'gateway').map((i) => `http://127.0.0.1:${i.port}`);
  }

  /** Starts every instance and waits until each answers /health/ready. */
  async start(timeoutMs = 90_000): Promise<void> {
    for (const instance of this.instances) this.spawn(instance);
    await Promise.all(this.instances.map((i) => this.waitReady(i, timeoutMs)));
  }

  spawn(instance: ServiceInstance): void {
    const main = join(ROOT, 'dist', 'apps', instance.name, 'src', 'main.js');
    const log = createWriteStream(join(this.options.logDir, `${instance.name}-${instance.index}.log`), {
      flags: 'a',
    });
    const child = spawn(
      process.execPath,
      [
        ...(this.options.nodeArgs ?? []),
        ...(this.options.nodeArgsOf?.[instance.name] ?? []),
        '-r',
        'tsconfig-paths/register',
        main,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          ...this.options.env,
          [PORT_VARIABLE[instance.name]]: String(instance.port),
          INSTANCE_ID: instance.instanceId,
          NO_COLOR: '1',
          STOP_ON_STDIN_CLOSE: '1',
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
          TS_NODE_BASEURL: join(ROOT, 'dist'),
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const prefix = `[${instance.name}#${instance.index}] `;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        if (this.options.echo) process.stdout.write(chunk.toString().replace(/^(?=.)/gm, prefix));
      });
    }
    child.on('exit', () => log.end());
    instance.process = child;
  }

  async waitReady(instance: ServiceInstance, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (instance.process?.exitCode !== null && instance.process?.exitCode !== undefined) {
        throw new Error(
          `${instance.name}#${instance.index} exited with ${instance.process.exitCode}; see ${this.options.logDir}`,
        );
      }
      try {
        const res = await fetch(`http://127.0.0.1:${instance.port}/health/ready`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`${instance.name}#${instance.index} not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Sends a signal and waits for the process to exit. */
  async stopInstance(
    instance: ServiceInstance,
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 30_000,
  ): Promise<void> {
    const child = instance.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  async restart(instance: ServiceInstance, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stopInstance(instance, signal);
    this.spawn(instance);
    await this.waitReady(instance);
  }

  async stop(): Promise<void> {
    // Edge first, so nothing new comes in while the pipeline drains.
    for (const name of ['gateway', 'sequencer', 'storage', 'delivery'] as ServiceName[]) {
      await Promise.all(this.instances.filter((i) => i.name === name).map((i) => this.stopInstance(i)));
    }
  }
}
