/** A minimal Prometheus registry: counters and gauges with labels, rendered as text. */
type Labels = Record<string, string>;

class Series {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
  ) {}
  private key(labels: Labels) {
    return Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',');
  }
  inc(labels: Labels = {}, by = 1) {
    const k = this.key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  set(labels: Labels, value: number) {
    this.values.set(this.key(labels), value);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

class Registry {
  private readonly series = new Map<string, Series>();
  counter(name: string, help: string) {
    return this.get(name, help, 'counter');
  }
  gauge(name: string, help: string) {
    return this.get(name, help, 'gauge');
  }
  private get(name: string, help: string, type: 'counter' | 'gauge') {
    let s = this.series.get(name);
    if (!s) this.series.set(name, (s = new Series(name, help, type)));
    return s;
  }
  render(): string {
    return [...this.series.values()].map((s) => s.render()).join('\n') + '\n';
  }
}

export const metrics = new Registry();
