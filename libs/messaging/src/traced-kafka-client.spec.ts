import { type SpanExporter, type SpanRecord, setTraceparent, traceparentOf, Tracer } from '@im/tracing';
import type { TopicEvents } from './events';
import { tracedHandle } from './traced-kafka-client';

/** A consumer stage's spans: one per traced event, children of their headers, ended once the output is durable. */
describe('tracedHandle', () => {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const setup = () => {
    const spans: SpanRecord[] = [];
    const exporter = { add: (s: SpanRecord) => spans.push(s) } as unknown as SpanExporter;
    return { spans, tracer: new Tracer(exporter) };
  };
  const event = (conversationId: string, traceparent?: string) =>
    setTraceparent({ conversationId, clientMsgId: 'm' } as TopicEvents['inbound'], traceparent);

  it('gives each traced event a child span that ends when the output is durable, and passes it on', async () => {
    const { spans, tracer } = setup();
    let makeDurable!: () => void;
    const durable = new Promise<void>((r) => (makeDurable = r));
    const seen: (string | undefined)[] = [];
    const handle = tracedHandle<'inbound'>(tracer, 'sequence', 'im.inbound', async ({ events }) => {
      seen.push(...events.map(traceparentOf));
      return { durable };
    });
    await handle({ partition: 0, events: [event('c1', parent), event('c2')], isStale: () => false, lag: 0 });
    expect(spans).toEqual([]);
    makeDurable();
    await durable;
    await new Promise((r) => setImmediate(r));
    expect(spans.map((s) => [s.name, s.parentSpanId, s.context.traceId])).toEqual([
      ['sequence', '00f067aa0ba902b7', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ]);
    // The untraced event starts no trace; the traced one now carries its new span.
    expect(seen[0]).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${spans[0].context.spanId}-01`);
    expect(seen[1]).toBeUndefined();
  });

  it('ends the spans with an error when the handler fails', async () => {
    const { spans, tracer } = setup();
    const handle = tracedHandle<'inbound'>(tracer, 'sequence', 'im.inbound', async () => {
      throw new Error('Redis away');
    });
    await expect(
      handle({ partition: 0, events: [event('c1', parent)], isStale: () => false, lag: 0 }),
    ).rejects.toThrow();
    expect(spans.map((s) => s.error)).toEqual(['Error: Redis away']);
  });
});
