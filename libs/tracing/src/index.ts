export {
  formatTraceparent,
  parseTraceparent,
  setTraceparent,
  TRACE,
  traceparentOf,
  type TraceContext,
  type Traced,
} from './trace-context';
export { Span, type SpanAttributes, type SpanKind, type SpanRecord } from './span';
export { otlpTraceRequest } from './otlp-json';
export { SpanExporter } from './span-exporter';
export { createTracer, currentTraceId, Tracer, tracesUrl } from './tracer';
export { TracingModule } from './tracing.module';
