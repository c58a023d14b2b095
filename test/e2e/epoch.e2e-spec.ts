import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import WebSocket from 'ws';
import { ChatClient, MemoryMessageStore, type EpochChange, type Message } from '@im/client-sdk';
import { setup, type TestUser } from '../support/context';
import { sendAndAck, waitFor } from '../support/helpers';

type SentFrame = { type: string } & Record<string, unknown>;

/** SDK clients the spec opened: closed after it even when a test failed, or they would keep reconnecting. */
const sdkClients: ChatClient[] = [];
afterAll(() => sdkClients.forEach((client) => client.close()));

/** An SDK client over a real socket; `sent` records every frame it writes, across reconnects. */
function sdkDevice(gateway: string, user: TestUser, deviceId: string, messageStore: MemoryMessageStore) {
  const sent: SentFrame[] = [];
  const client = new ChatClient({
    baseUrl: gateway.replace(/^http/, 'ws'),
    deviceId,
    token: user.token,
    messageStore,
    socketFactory: (url) => {
      const ws = new WebSocket(url);
      const send = ws.send.bind(ws);
      ws.send = ((data: string) => {
        sent.push(JSON.parse(data) as SentFrame);
        send(data);
      }) as typeof ws.send;
      return ws;
    },
  });
  sdkClients.push(client);
  const ready = () => waitFor(() => client.state === 'ready', `${deviceId} ready`);
  return { client, sent, ready };
}

const shown = (messages: Message[]) => messages.map((m) => [m.seq, m.messageId, m.body.text]);

/** docs/protocol.md §2 `epoch`: the history's generation, the same everywhere, changed only in the database. */
describe('epoch', () => {
  const ctx = setup();

  async function setEpochSql(sql: string): Promise<void> {
    const pg = new Client({ connectionString: ctx.stack.databaseUrl });
    await pg.connect();
    try {
      await pg.query(sql);
    } finally {
      await pg.end();
    }
  }

  async function currentEpoch(): Promise<string> {
    const pg = new Client({ connectionString: ctx.stack.databaseUrl });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ epoch: string }>(`SELECT epoch FROM history_epoch`);
      return rows[0].epoch;
    } finally {
      await pg.end();
    }
  }

  async function epochsSeen() {
    const alice = await ctx.newUser('alice');
    const [a, b] = [await ctx.connect(alice, { gateway: 0 }), await ctx.connect(alice, { gateway: 1 })];
    const sync = await b.request({ type: 'sync' });
    return { welcome0: a.frames[0].epoch, welcome1: b.frames[0].epoch, sync: sync.epoch };
  }

  it('is the same in every gateway’s welcome and in sync_result', async () => {
    const seen = await epochsSeen();
    expect(seen.welcome0).toMatch(/^.{1,64}$/);
    expect(seen).toEqual({ welcome0: seen.welcome0, welcome1: seen.welcome0, sync: seen.welcome0 });
  });

  it('changes for every gateway at once when it is changed in the database (after a restore)', async () => {
    const before = (await epochsSeen()).welcome0;
    await setEpochSql(`UPDATE history_epoch SET epoch = gen_random_uuid()::text, changed_at = now()`);
    const after = await epochsSeen();
    expect(after.welcome0).not.toBe(before);
    expect(after).toEqual({ welcome0: after.welcome0, welcome1: after.welcome0, sync: after.welcome0 });
  });

  it('an SDK client with an old store drops it and resyncs', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const b = await ctx.connect(bob);
    for (const text of ['one', 'two', 'three']) await sendAndAck(b, conversationId, text);

    // One store for both runs of the same installation, as a durable one would be.
    const store = new MemoryMessageStore();
    const deviceId = `sdk-${randomUUID().slice(0, 8)}`;
    const first = sdkDevice(ctx.gateway(), alice, deviceId, store);
    await first.client.connect();
    await first.ready();
    await waitFor(async () => (await first.client.timeline(conversationId)).length === 3, 'three messages');
    // The server holds this device's delivered cursor at 3: a sync without cursors would start there.
    await b.next((f) => f.type === 'receipt' && f.kind === 'delivered' && f.seq === 3);
    const before = await currentEpoch();
    expect(await store.epoch()).toBe(before);
    const history = shown(await first.client.timeline(conversationId));
    first.client.close();

    // What the store holds of the lost history: a seq 5 the server never had, and another seq 2.
    const [, two] = await store.list(conversationId);
    await store.put([
      { message: { ...two, messageId: 'lost-2', body: { text: 'lost two' } } },
      { message: { ...two, seq: 5, messageId: 'lost-5', body: { text: 'lost five' } } },
    ]);
    await store.setCursor(conversationId, 5);
    await setEpochSql(`UPDATE history_epoch SET epoch = gen_random_uuid()::text, changed_at = now()`);
    const after = await currentEpoch();

    const second = sdkDevice(ctx.gateway(), alice, deviceId, store);
    const changes: EpochChange[] = [];
    second.client.on('epochChanged', (change) => changes.push(change));
    const offline = second.client.send(conversationId, { text: 'written before the restart' });
    await second.client.connect();
    await second.ready();

    expect(changes).toEqual([{ previous: before, epoch: after }]);
    expect(second.sent.find((f) => f.type === 'sync')?.cursors).toEqual({ [conversationId]: 0 });
    const ack = await offline.acked;
    expect(ack.seq).toBe(4);
    // Exactly what the server has: its three messages as before (not the store's copies) and the resent one.
    await waitFor(async () => (await second.client.timeline(conversationId)).length === 4, 'four messages');
    expect(shown(await second.client.timeline(conversationId))).toEqual([
      ...history,
      [4, ack.messageId, 'written before the restart'],
    ]);
    const server = await b.request({ type: 'history', conversationId, afterSeq: 0 });
    expect(server.messages.map((m: Message) => [m.seq, m.messageId, m.body.text])).toEqual(
      shown(await second.client.timeline(conversationId)),
    );
    expect(await store.epoch()).toBe(after);
    second.client.close();
  });
});
