import type { SpanKind, SpanRecord } from './span';

const KIND: Record<SpanKind, number> = { internal: 1, server: 2, producer: 4, consumer: 5 };

const attribute = (key: string, value: string | number | boolean) => ({
  key,
  value:
    typeof value === 'string'
      ? { stringValue: value }
      : typeof value === 'boolean'
        ? { boolValue: value }
        : Number.isInteger(value)
          ? { intValue: String(value) }
          : { doubleValue: value },
});

/** An OTLP/HTTP JSON export request (ExportTraceServiceRequest) of one service's spans. */
export function otlpTraceRequest(serviceName: string, instanceId: string, spans: readonly SpanRecord[]) {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [attribute('service.name', serviceName), attribute('service.instance.id', instanceId)],
        },
        scopeSpans: [
          {
            scope: { name: 'im' },
            spans: spans.map((s) => ({
              traceId: s.context.traceId,
              spanId: s.context.spanId,
              ...(s.parentSpanId && { parentSpanId: s.parentSpanId }),
              name: s.name,
              kind: KIND[s.kind],
              startTimeUnixNano: s.startNs.toString(),
              endTimeUnixNano: s.endNs.toString(),
              attributes: Object.entries(s.attributes).map(([k, v]) => attribute(k, v)),
              status: s.error === undefined ? { code: 1 } : { code: 2, message: s.error },
            })),
          },
        ],
      },
    ],
  };
}
