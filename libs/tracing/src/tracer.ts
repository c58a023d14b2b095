import { AsyncLocalStorage } from 'node:async_hooks';
import type { AppConfig } from '@im/config';
import { Span, type SpanAttributes, type SpanKind } from './span';
import { SpanExporter } from './span-exporter';
import { newSpanId, newTraceId, parseTraceparent, type TraceContext } from './trace-context';

const active = new AsyncLocalStorage<TraceContext>();

/** The trace id of the span whose work is running now, for log lines. */
export const currentTraceId = (): string | undefined => active.getStore()?.traceId;

/**
 * Starts the spans of one service. Off (every call a no-op returning undefined) unless
 * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.
 */
export class Tracer {
  constructor(
    private readonly exporter: SpanExporter | undefined,
    private readonly sampleRatio = 1,
  ) {}

  static readonly off = new Tracer(undefined);

  get enabled(): boolean {
    return this.exporter !== undefined;
  }

  /**
   * A span of `name`: the child of `parent` (a traceparent), or the root of a new trace, which
   * is kept with OTEL_TRACES_SAMPLER_ARG's probability. Undefined when tracing is off or the
   * trace is not sampled: callers then pass `parent` on unchanged.
   */
  start(
    name: string,
    parent: string | undefined,
    kind: SpanKind,
    attributes: SpanAttributes = {},
  ): Span | undefined {
    if (!this.exporter) return undefined;
    return this.open(name, parseTraceparent(parent), kind, attributes);
  }

  /** A span of `name` under `parent` only: a stage never starts a trace of its own. */
  child(
    name: string,
    parent: string | undefined,
    kind: SpanKind,
    attributes: SpanAttributes = {},
  ): Span | undefined {
    if (!this.exporter || parent === undefined) return undefined;
    const from = parseTraceparent(parent);
    return from ? this.open(name, from, kind, attributes) : undefined;
  }

  private open(
    name: string,
    from: TraceContext | undefined,
    kind: SpanKind,
    attributes: SpanAttributes,
  ): Span | undefined {
    const exporter = this.exporter;
    if (!exporter || (from ? !from.sampled : Math.random() >= this.sampleRatio)) return undefined;
    const context = { traceId: from?.traceId ?? newTraceId(), spanId: newSpanId(), sampled: true };
    return new Span(name, context, from?.spanId, kind, attributes, (record) => exporter.add(record));
  }

  /** Runs `work` as the span's: log lines written meanwhile carry its trace id. */
  run<T>(span: Span | undefined, work: () => T): T {
    return span ? active.run(span.context, work) : work();
  }

  flush(): Promise<void> {
    return this.exporter?.flush() ?? Promise.resolve();
  }
}

/** The collector's traces URL: the signal's own setting as it is, else the base endpoint's /v1/traces. */
export function tracesUrl(config: AppConfig): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

export function createTracer(config: AppConfig, service: string): Tracer {
  const url = tracesUrl(config);
  if (!url) return Tracer.off;
  const exporter = new SpanExporter(url, config.OTEL_SERVICE_NAME ?? `im-${service}`, config.INSTANCE_ID);
  return new Tracer(exporter, config.OTEL_TRACES_SAMPLER_ARG);
}
