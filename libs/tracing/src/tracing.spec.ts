import { otlpTraceRequest } from './otlp-json';
import type { SpanRecord } from './span';
import type { SpanExporter } from './span-exporter';
import { formatTraceparent, parseTraceparent, setTraceparent, traceparentOf } from './trace-context';
import { currentTraceId, Tracer } from './tracer';

const recording = () => {
  const spans: SpanRecord[] = [];
  const exporter = {
    add: (s: SpanRecord) => spans.push(s),
    flush: async () => undefined,
  } as unknown as SpanExporter;
  return { spans, exporter };
};

describe('traceparent', () => {
  const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('reads and writes W3C trace context', () => {
    const c = parseTraceparent(header);
    expect(c).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    });
    expect(formatTraceparent(c!)).toBe(header);
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')?.sampled).toBe(false);
  });

  it('takes anything malformed or all-zero as no context', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      header.toUpperCase(),
      `01${header.slice(2)}`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    ])
      expect(parseTraceparent(bad)).toBeUndefined();
  });

  it('rides on an object without ever reaching its JSON, and survives a spread', () => {
    const event = setTraceparent({ seq: 1 }, header);
    expect(JSON.stringify(event)).toBe('{"seq":1}');
    expect(traceparentOf({ ...event, seq: 2 })).toBe(header);
  });
});

describe('Tracer', () => {
  it('is off without an exporter', () => {
    expect(Tracer.off.start('accept', undefined, 'server')).toBeUndefined();
  });

  it('starts a root, then children in the same trace, each recorded once when it ends', () => {
    const { spans, exporter } = recording();
    const tracer = new Tracer(exporter);
    const root = tracer.start('accept', undefined, 'server', { 'im.conversation_id': 'c1' })!;
    const child = tracer.start('sequence', root.traceparent, 'consumer')!;
    child.end();
    child.end();
    root.end('unavailable');
    expect(spans.map((s) => [s.name, s.context.traceId === root.context.traceId, s.parentSpanId])).toEqual([
      ['sequence', true, root.context.spanId],
      ['accept', true, undefined],
    ]);
    expect(spans[1].error).toBe('unavailable');
    expect(spans[0].endNs >= spans[0].startNs).toBe(true);
  });

  it('follows the sampling decision of the trace, and samples roots by the ratio', () => {
    const { spans, exporter } = recording();
    expect(
      new Tracer(exporter).start(
        'store',
        '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
        'consumer',
      ),
    ).toBeUndefined();
    expect(new Tracer(exporter, 0).start('accept', undefined, 'server')).toBeUndefined();
    expect(spans).toEqual([]);
  });

  it('gives log lines written in a span its trace id', async () => {
    const { exporter } = recording();
    const tracer = new Tracer(exporter);
    const span = tracer.start('accept', undefined, 'server')!;
    const seen = await tracer.run(span, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentTraceId();
    });
    expect(seen).toBe(span.context.traceId);
    expect(currentTraceId()).toBeUndefined();
  });
});

describe('otlpTraceRequest', () => {
  it('is an OTLP/HTTP JSON export request with the service as its resource', () => {
    const span: SpanRecord = {
      name: 'store',
      context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: true },
      parentSpanId: 'c'.repeat(16),
      kind: 'consumer',
      startNs: 1_000n,
      endNs: 2_000n,
      attributes: { 'im.conversation_id': 'c1', partition: 3, ok: true, ratio: 0.5 },
      error: 'abandoned',
    };
    const body = otlpTraceRequest('im-storage', 'st-1', [span]);
    const [resourceSpans] = body.resourceSpans;
    expect(resourceSpans.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'im-storage' },
    });
    expect(resourceSpans.scopeSpans[0].spans[0]).toEqual({
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      parentSpanId: 'c'.repeat(16),
      name: 'store',
      kind: 5,
      startTimeUnixNano: '1000',
      endTimeUnixNano: '2000',
      attributes: [
        { key: 'im.conversation_id', value: { stringValue: 'c1' } },
        { key: 'partition', value: { intValue: '3' } },
        { key: 'ok', value: { boolValue: true } },
        { key: 'ratio', value: { doubleValue: 0.5 } },
      ],
      status: { code: 2, message: 'abandoned' },
    });
  });
});

describe('span and trace ids', () => {
  it('are hex of the right length and do not repeat', async () => {
    const { newSpanId, newTraceId } = await import('./trace-context');
    const ids = new Set(Array.from({ length: 2000 }, () => newSpanId()));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(newTraceId()).toMatch(/^[0-9a-f]{32}$/);
  });
});
