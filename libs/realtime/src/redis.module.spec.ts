import { createServer, type Server } from 'node:net';
import { Logger } from '@nestjs/common';
import { createRedis } from './redis-client';

/** A client whose Redis is unreachable says so once, not once per reconnect attempt. */
describe('createRedis outage reporting', () => {
  let port = 0;
  beforeAll(async () => {
    // A port nobody listens on: every connection attempt is refused.
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('warns once while reconnecting again and again', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const redis = createRedis(`redis://127.0.0.1:${port}`, 'x:');
    redis.on('error', () => undefined); // the spec's own listener: it must not change the count
    await new Promise((r) => setTimeout(r, 1500));
    redis.disconnect();
    const outages = warn.mock.calls.filter(([m]) => String(m).includes('connection to Redis failed'));
    expect(outages).toHaveLength(1);
    warn.mockRestore();
  });
});
