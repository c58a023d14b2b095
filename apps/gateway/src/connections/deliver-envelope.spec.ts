import type { ServerFrame } from '@im/protocol';
import { AckTimeoutError, AckWaiters } from './ack-waiters';
import { ClientConnection } from './client-connection';
import { deliverEnvelope } from './deliver-envelope';
import { LocalConnections } from './local-connections';

/** A connection over a fake socket that records what it was sent and how it was closed. */
function fakeConnection(userId: string, deviceId: string, tokenId?: string) {
  const sent: string[] = [];
  const closed: number[] = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    send: (text: string | Buffer) => sent.push(text.toString()),
    close: (code: number) => closed.push(code),
  };
  const conn = new ClientConnection(socket as never, userId, deviceId, Date.now() / 1000 + 3600, tokenId);
  return { conn, sent, closed };
}

const pong: ServerFrame = { type: 'pong', serverTime: 1 };
const typing: ServerFrame = { type: 'typing', conversationId: 'c1', userId: 'u9' };

describe('deliverEnvelope', () => {
  function setup() {
    const connections = new LocalConnections();
    const waiters = new AckWaiters();
    const a1 = fakeConnection('a', 'd1', 't1');
    const a2 = fakeConnection('a', 'd2', 't2');
    const b1 = fakeConnection('b', 'd1');
    for (const c of [a1, a2, b1]) connections.add(c.conn);
    return { connections, waiters, a1, a2, b1 };
  }

  it('sends a to_conn frame to that connection only', () => {
    const { connections, waiters, a1, a2 } = setup();
    deliverEnvelope({ kind: 'to_conn', connId: a1.conn.connId, frame: pong }, connections, waiters);
    expect(a1.sent.map((t) => JSON.parse(t) as ServerFrame)).toEqual([pong]);
    expect(a2.sent).toEqual([]);
  });

  it('answers an admin call waiting under the connection id instead of any socket', async () => {
    const { connections, waiters, a1 } = setup();
    const answer = waiters.wait('rest:1', 1000);
    deliverEnvelope({ kind: 'to_conn', connId: 'rest:1', frame: pong }, connections, waiters);
    await expect(answer).resolves.toEqual(pong);
    expect(a1.sent).toEqual([]);
  });

  it('sends one serialized frame to every listed device held here, and skips the others', () => {
    const { connections, waiters, a2, b1, a1 } = setup();
    deliverEnvelope(
      {
        kind: 'to_devices',
        frame: typing,
        devices: [
          ['a', 'd2'],
          ['b', 'd1'],
          ['x', 'gone'],
        ],
      },
      connections,
      waiters,
    );
    expect([a1.sent, a2.sent, b1.sent]).toEqual([[], [JSON.stringify(typing)], [JSON.stringify(typing)]]);
  });

  it('sends to_device frames in order', () => {
    const { connections, waiters, b1 } = setup();
    deliverEnvelope(
      { kind: 'to_device', userId: 'b', deviceId: 'd1', frames: [pong, typing] },
      connections,
      waiters,
    );
    expect(b1.sent.map((t) => (JSON.parse(t) as ServerFrame).type)).toEqual(['pong', 'typing']);
  });

  it('closes a user’s connections by device, by token, never the one excepted', () => {
    const { connections, waiters, a1, a2, b1 } = setup();
    deliverEnvelope(
      { kind: 'close', userId: 'a', tokenId: 't2', code: 4401, reason: 'revoked' },
      connections,
      waiters,
    );
    expect([a1.closed, a2.closed]).toEqual([[], [4401]]);
    deliverEnvelope(
      { kind: 'close', userId: 'a', exceptConnId: a1.conn.connId, code: 4409, reason: 'replaced' },
      connections,
      waiters,
    );
    expect(a1.closed).toEqual([]);
    deliverEnvelope(
      { kind: 'close', userId: 'a', deviceId: 'd1', code: 4409, reason: 'replaced' },
      connections,
      waiters,
    );
    expect([a1.closed, b1.closed]).toEqual([[4409], []]);
  });
});

describe('LocalConnections', () => {
  it('hands back the connection a new one of the same device replaces, and keeps the newer on removal of the older', () => {
    const connections = new LocalConnections();
    const first = fakeConnection('a', 'd1').conn;
    const second = fakeConnection('a', 'd1').conn;
    expect(connections.add(first)).toBeUndefined();
    expect(connections.add(second)).toBe(first);
    expect(connections.remove(first)).toBe(true);
    expect(connections.byDevice('a', 'd1')).toBe(second);
    expect(connections.remove(first)).toBe(false);
    expect(connections.connectionsOf('a')).toEqual([second]);
  });
});

describe('AckWaiters', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('gives up after the timeout with a typed error, and then no longer answers', async () => {
    const waiters = new AckWaiters();
    const answer = waiters.wait('rest:2', 500);
    const settled = expect(answer).rejects.toBeInstanceOf(AckTimeoutError);
    await jest.advanceTimersByTimeAsync(501);
    await settled;
    expect(waiters.answer('rest:2', pong)).toBe(false);
  });
});
