import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from '../support/context';
import { sendAndAck, waitFor } from '../support/helpers';
import { OwnStack, startOwnStack } from '../support/own-stack';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, string>;
}

/** An OTLP/HTTP collector that keeps every span it is sent (JSON encoding). */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json'))
          this.take(raw);
        res.writeHead(req.url === '/v1/traces' ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private take(raw: string) {
    type Attr = { key: string; value: { stringValue?: string; intValue?: string } };
    const body = JSON.parse(raw) as {
      resourceSpans: {
        resource: { attributes: Attr[] };
        scopeSpans: { spans: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes: Attr[] })[] }[];
      }[];
    };
    const flat = (attrs: Attr[]) =>
      Object.fromEntries(attrs.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? '']));
    for (const rs of body.resourceSpans) {
      const service = flat(rs.resource.attributes)['service.name'];
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans) this.spans.push({ ...s, service, attributes: flat(s.attributes) });
    }
  }
}

/** OpenTelemetry (README, Tracing): one send is one trace, with spans from all four services. */
describe('tracing', () => {
  const collector = new OtlpReceiver();
  let own: OwnStack | undefined;
  let ctx: TestContext;

  beforeAll(async () => {
    const endpoint = await collector.start();
    own = await startOwnStack({ name: 'otl', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
    ctx = own.ctx;
  }, 120_000);
  afterAll(async () => {
    await own?.stop();
    await collector.stop();
  });

  it('follows one send through accept, sequence, store, fan-out and push as one trace', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const [a, b] = [await ctx.connect(alice), await ctx.connect(bob)];
    const clientMsgId = randomUUID();
    const ack = await sendAndAck(a, conversationId, 'traced', clientMsgId);
    await b.next((f) => f.type === 'message' && f.seq === ack.seq);

    const accept = await waitFor(
      () =>
        collector.spans.find((s) => s.name === 'accept' && s.attributes['im.client_msg_id'] === clientMsgId),
      'the accept span',
      20_000,
      200,
    );
    const trace = () => collector.spans.filter((s) => s.traceId === accept.traceId);
    // The ack and the push to bob are both `push` spans of the gateway.
    await waitFor(
      () =>
        ['sequence', 'store', 'fan-out'].every((n) => trace().some((s) => s.name === n)) &&
        trace().filter((s) => s.name === 'push').length >= 2,
      'every stage of the message in the trace',
      20_000,
      200,
    );
    const spans = trace();
    expect(new Set(spans.map((s) => s.service))).toEqual(
      new Set(['im-gateway', 'im-sequencer', 'im-storage', 'im-delivery']),
    );
    expect(spans.find((s) => s.name === 'sequence')?.service).toBe('im-sequencer');
    expect(spans.find((s) => s.name === 'store')?.service).toBe('im-storage');
    expect(spans.find((s) => s.name === 'fan-out')?.service).toBe('im-delivery');
    // One tree: the root is the accept, every other span's parent is in the trace.
    const ids = new Set(spans.map((s) => s.spanId));
    expect(spans.filter((s) => s.parentSpanId === undefined).map((s) => s.name)).toEqual(['accept']);
    expect(spans.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId))).toEqual([]);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const path = (s: ReceivedSpan): string[] =>
      s.parentSpanId ? [...path(byId.get(s.parentSpanId)!), s.name] : [s.name];
    expect(path(spans.find((s) => s.name === 'fan-out')!)).toEqual([
      'accept',
      'sequence',
      'store',
      'fan-out',
    ]);
    for (const push of spans.filter((s) => s.name === 'push'))
      expect(path(push)).toEqual(['accept', 'sequence', 'store', 'fan-out', 'push']);
  });
});
