import type { TraceContext } from './trace-context';
import { formatTraceparent } from './trace-context';

export type SpanAttributes = Record<string, string | number | boolean>;

/** A finished span, as the exporter sends it. */
export interface SpanRecord {
  name: string;
  context: TraceContext;
  parentSpanId?: string;
  kind: SpanKind;
  startNs: bigint;
  endNs: bigint;
  attributes: SpanAttributes;
  error?: string;
}

/** OTLP's span kinds that apply here. */
export type SpanKind = 'server' | 'consumer' | 'producer' | 'internal';

/** One stage of one message's path; `end` hands it to the exporter once. */
export class Span {
  private readonly startNs = process.hrtime.bigint();
  private readonly startEpochNs = BigInt(Date.now()) * 1_000_000n;
  private ended = false;

  constructor(
    readonly name: string,
    readonly context: TraceContext,
    private readonly parentSpanId: string | undefined,
    private readonly kind: SpanKind,
    private readonly attributes: SpanAttributes,
    private readonly finish: (record: SpanRecord) => void,
  ) {}

  get traceparent(): string {
    return formatTraceparent(this.context);
  }

  setAttribute(key: string, value: string | number | boolean): void {
    this.attributes[key] = value;
  }

  end(error?: string): void {
    if (this.ended) return;
    this.ended = true;
    // Wall-clock start, monotonic duration: a clock step during the span cannot make it negative.
    const endNs = this.startEpochNs + (process.hrtime.bigint() - this.startNs);
    this.finish({
      name: this.name,
      context: this.context,
      ...(this.parentSpanId && { parentSpanId: this.parentSpanId }),
      kind: this.kind,
      startNs: this.startEpochNs,
      endNs,
      attributes: this.attributes,
      ...(error !== undefined && { error }),
    });
  }
}
