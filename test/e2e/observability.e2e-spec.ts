import { setup } from '../support/context';

/** docs/protocol.md §5: every service answers /health/live, /health/ready and exposes Prometheus metrics. */
describe('observability', () => {
  const ctx = setup();

  it('exposes Prometheus metrics at /metrics on every service', async () => {
    for (const s of ctx.stack.services) {
      const res = await fetch(`http://127.0.0.1:${s.port}/metrics`);
      const text = await res.text();
      expect({ service: `${s.name}-${s.index}`, status: res.status }).toEqual({
        service: `${s.name}-${s.index}`,
        status: 200,
      });
      expect(res.headers.get('content-type') ?? '').toMatch(/text\/plain/);
      // The exposition format: "# TYPE name kind" lines and "name{labels} value" samples.
      expect(text).toMatch(/^# TYPE \w+ (counter|gauge|histogram|summary|untyped)$/m);
      expect(text).toMatch(/^\w+(\{[^}]*\})? -?[0-9.e+]+$/m);
    }
  });
});
