/** A small Prometheus registry: counters, gauges and histograms with labels, rendered as text. */
type Labels = Record<string, string>;

const labelKey = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    .join(',');

class Series {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
  ) {}
  inc(labels: Labels = {}, by = 1) {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  set(labels: Labels, value: number) {
    this.values.set(labelKey(labels), value);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

/** Latency buckets in seconds, from 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[] = LATENCY_BUCKETS,
  ) {}
  observe(labels: Labels, value: number) {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]++;
    });
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? ',' : '';
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

class Registry {
  private readonly series = new Map<string, Series | Histogram>();
  counter(name: string, help: string): Series {
    return this.get(name, () => new Series(name, help, 'counter')) as Series;
  }
  gauge(name: string, help: string): Series {
    return this.get(name, () => new Series(name, help, 'gauge')) as Series;
  }
  histogram(name: string, help: string): Histogram {
    return this.get(name, () => new Histogram(name, help)) as Histogram;
  }
  private get(name: string, make: () => Series | Histogram) {
    let s = this.series.get(name);
    if (!s) this.series.set(name, (s = make()));
    return s;
  }
  render(): string {
    this.beforeRender?.();
    return [...this.series.values()].map((s) => s.render()).join('\n') + '\n';
  }
  /** Gauges that are read from the process at scrape time. */
  beforeRender?: () => void;
}

export const metrics = new Registry();

const residentMemory = metrics.gauge('process_resident_memory_bytes', 'Resident memory of this process');
const heapUsed = metrics.gauge(
  'nodejs_heap_used_bytes',
  'V8 heap in use (live objects and not yet collected garbage)',
);
const externalMemory = metrics.gauge(
  'nodejs_external_memory_bytes',
  'Memory of buffers and other objects outside the V8 heap',
);
metrics.beforeRender = () => {
  const usage = process.memoryUsage();
  residentMemory.set({}, usage.rss);
  heapUsed.set({}, usage.heapUsed);
  externalMemory.set({}, usage.external);
};

/**
 * Time between the stages of a message's life, in seconds: accepted (gateway) → sequenced
 * → stored → acked → delivered. Each service observes the stages it sees end.
 */
export const stageLatency = metrics.histogram(
  'im_message_stage_seconds',
  'Time from the previous stage, by stage',
);
