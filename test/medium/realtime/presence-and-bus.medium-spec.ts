import { GatewayBus, type GatewayEnvelope, PresenceStore } from '@im/realtime';
import { DeliveredCursorStore } from '../../../apps/delivery/src/repush/delivered-cursor.store';
import { MediumContext } from '../support/medium-context';

/** Where devices are, how gateways are reached, and delivered cursors, in the real Redis. */
describe('PresenceStore, GatewayBus and DeliveredCursorStore (real Redis)', () => {
  let ctx: MediumContext;
  let presence: PresenceStore;
  beforeAll(async () => {
    ctx = await MediumContext.create('presence');
    presence = new PresenceStore(ctx.redis);
  });
  afterAll(() => ctx.close());

  const at = (gatewayId: string, connId: string) => ({ gatewayId, connId, connectedAt: 1 });

  it('registers a device, hands back the entry it replaced, and finds every device of many users', async () => {
    expect(await presence.register('u1', 'phone', at('gw-a', 'c1'))).toBeNull();
    expect(await presence.register('u1', 'phone', at('gw-b', 'c2'))).toEqual(at('gw-a', 'c1'));
    await presence.register('u1', 'laptop', at('gw-a', 'c3'));
    await presence.register('u2', 'phone', at('gw-b', 'c4'));
    const found = await presence.devicesOf(['u1', 'u2', 'nobody']);
    expect(found.get('u1')).toEqual(
      new Map([
        ['phone', at('gw-b', 'c2')],
        ['laptop', at('gw-a', 'c3')],
      ]),
    );
    expect(found.get('u2')).toEqual(new Map([['phone', at('gw-b', 'c4')]]));
    expect(found.get('nobody')?.size ?? 0).toBe(0);
  });

  it('unregisters a device only for the connection that holds it (a late close of a replaced one does nothing)', async () => {
    await presence.register('u3', 'phone', at('gw-a', 'old'));
    await presence.register('u3', 'phone', at('gw-a', 'new'));
    await presence.unregister('u3', 'phone', 'old');
    expect((await presence.devicesOf(['u3'])).get('u3')?.get('phone')).toEqual(at('gw-a', 'new'));
    await presence.unregister('u3', 'phone', 'new');
    expect((await presence.devicesOf(['u3'])).get('u3')?.size ?? 0).toBe(0);
  });

  it('brings a gateway’s entries back after Redis lost them', async () => {
    await presence.register('u4', 'phone', at('gw-a', 'c9'));
    await ctx.redis.del('presence:u4');
    await presence.refresh([{ userId: 'u4', deviceId: 'phone', presence: at('gw-a', 'c9') }]);
    expect((await presence.devicesOf(['u4'])).get('u4')?.get('phone')).toEqual(at('gw-a', 'c9'));
  });

  it('carries envelopes to one gateway’s channel only, several in one message in their order', async () => {
    const mine: GatewayEnvelope[] = [];
    const theirs: GatewayEnvelope[] = [];
    const [a, b] = [ctx.newRedis(), ctx.newRedis()];
    await GatewayBus.subscribe(a, 'gw-a', (e) => mine.push(e));
    await GatewayBus.subscribe(b, 'gw-b', (e) => theirs.push(e));
    const bus = new GatewayBus(ctx.redis);
    const frame = (serverTime: number) => ({ type: 'pong' as const, serverTime });
    await bus.publishMany([
      { gatewayId: 'gw-a', envelope: { kind: 'to_conn', connId: 'c1', frame: frame(1) } },
      { gatewayId: 'gw-b', envelope: { kind: 'to_conn', connId: 'c2', frame: frame(2) } },
      { gatewayId: 'gw-a', envelope: { kind: 'to_conn', connId: 'c1', frame: frame(3) } },
    ]);
    await Promise.all([a.ping(), b.ping()]);
    expect(mine.map((e) => e.kind === 'to_conn' && e.frame)).toEqual([frame(1), frame(3)]);
    expect(theirs.map((e) => e.kind === 'to_conn' && e.frame)).toEqual([frame(2)]);
  });

  it('raises delivered cursors, never lowers them, and reads them for re-push', async () => {
    const cursors = new DeliveredCursorStore(ctx.redis);
    const move = (seq: number) => ({ userId: 'u5', deviceId: 'phone', conversationId: 'c1', seq });
    await cursors.raiseDeliveredCursors([move(4), move(2)]);
    await cursors.raiseDeliveredCursors([move(3)]);
    const push = {
      userId: 'u5',
      deviceId: 'phone',
      conversationId: 'c1',
      connId: 'x',
      fromSeq: 1,
      seq: 9,
      attempt: 0,
    };
    expect(await cursors.deliveredCursors([push, { ...push, conversationId: 'c2' }])).toEqual([4, 0]);
  });
});
