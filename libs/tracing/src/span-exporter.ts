import { Logger } from '@nestjs/common';
import type { SpanRecord } from './span';
import { otlpTraceRequest } from './otlp-json';

/** Spans sent per request, and at most this many waiting (beyond it new ones are dropped). */
const BATCH = 512;
const MAX_QUEUED = 20_000;
const FLUSH_MS = 1000;

/**
 * Sends finished spans to the collector in batches, once a second or every BATCH spans, over
 * OTLP/HTTP with JSON bodies. A collector that is away costs spans, never the chat: the queue
 * is bounded and a failed export is dropped with one warning a minute.
 */
export class SpanExporter {
  private readonly logger = new Logger('tracing');
  private queue: SpanRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private exporting: Promise<void> = Promise.resolve();
  private lastWarnAt = 0;
  dropped = 0;

  constructor(
    private readonly url: string,
    private readonly serviceName: string,
    private readonly instanceId: string,
  ) {}

  add(span: SpanRecord): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Sends what is queued; resolves once every export started so far has ended. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      this.exporting = this.exporting.then(() => this.send(batch));
    }
    return this.exporting;
  }

  private async send(spans: SpanRecord[]): Promise<void> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(otlpTraceRequest(this.serviceName, this.instanceId, spans)),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`collector answered ${res.status}`);
    } catch (error) {
      this.dropped += spans.length;
      if (Date.now() - this.lastWarnAt > 60_000) {
        this.lastWarnAt = Date.now();
        this.logger.warn(`spans not exported (${this.dropped} dropped so far): ${String(error)}`);
      }
    }
  }
}
