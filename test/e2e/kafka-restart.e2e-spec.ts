import { Admin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaKill9, kafkaStart } from '../chaos/dependencies';
import { OwnStack, startOwnStack } from '../support/own-stack';
import { autoDeliverAck, sleep, waitFor } from '../support/helpers';

/**
 * A broker killed and back after longer than the group session (6 s) has forgotten every
 * consumer group member. @platformatic/kafka 2.12.1 then keeps fetching its old partitions and
 * heartbeating with the forgotten member id, answered UNKNOWN_MEMBER_ID forever: no commit
 * went through any more, and a member joining later would get the same partitions. Every
 * service must rejoin: sends go on, and each group commits what it handled.
 */
describe('a Kafka broker killed for longer than the group session', () => {
  let own: OwnStack | undefined;
  const admin = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).admin();
  // kafkajs cannot tell a KIP-848 group's state; this client can.
  const groupsAdmin = new Admin({ clientId: 'kbr-spec', bootstrapBrokers: ['127.0.0.1:9092'] });

  beforeAll(async () => {
    own = await startOwnStack({ name: 'kbr', env: { LOG_LEVEL: 'debug' } });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect().catch(() => undefined);
    await groupsAdmin.close().catch(() => undefined);
    await own?.stop();
  }, 120_000);

  /** Each of the stack's groups with its topic's partitions not yet committed to their end. */
  async function uncommitted(prefix: string): Promise<string[]> {
    const { groups } = await admin.listGroups();
    const behind: string[] = [];
    for (const { groupId } of groups.filter((g) => g.groupId.startsWith(prefix))) {
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId })) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const end of ends) {
          const committed = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
          if (Math.max(committed, 0) < Number(end.high))
            behind.push(`${groupId} ${topic}:${end.partition} committed ${committed} of ${end.high}`);
        }
      }
    }
    return behind;
  }

  /** The stack's groups that have no member (a member the broker forgot does not count). */
  async function memberless(prefix: string): Promise<string[]> {
    const groups = await groupsAdmin.listGroups({ types: ['consumer'] });
    return [...groups.values()]
      .filter((g) => g.id.startsWith(prefix) && (g.state === 'Empty' || g.state === 'Dead'))
      .map((g) => `${g.id} ${g.state}`);
  }

  /** Waits up to 45 s for `probe` to list nothing; fails with what it still lists. */
  async function noneLeft(probe: () => Promise<string[]>, what: string): Promise<void> {
    let left: string[] = [];
    try {
      await waitFor(async () => (left = await probe()).length === 0, `no ${what}`, 45_000);
    } catch {
      throw new Error(`${what} 45 s after the last push:\n${left.join('\n')}`);
    }
  }

  it('rejoins every group: sends go on and each group commits what it handled', async () => {
    const ctx = own!.ctx;
    const prefix = own!.env.KAFKA_TOPIC_PREFIX;
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob);
    autoDeliverAck(b);
    const before = Array.from({ length: 10 }, (_, i) => a.send(conversationId, `before ${i}`, `kbr-a${i}`));
    await Promise.all(before.map((id) => a.ackOf(id, 30_000)));
    await waitFor(async () => (await uncommitted(prefix)).length === 0, 'commits before the kill', 30_000);
    expect(await memberless(prefix)).toEqual([]);

    await kafkaKill9();
    await sleep(8_000); // past the 6 s session: the broker comes back without the members
    await kafkaStart();

    const after = Array.from({ length: 20 }, (_, i) => a.send(conversationId, `after ${i}`, `kbr-b${i}`));
    const acks = await Promise.all(after.map((id) => a.ackOf(id, 90_000)));
    expect(acks.map((f) => f.type)).toEqual(after.map(() => 'ack'));
    await waitFor(
      () => new Set(b.messages(conversationId).map((m) => m.seq)).size === 30,
      'all 30 pushes at bob',
      60_000,
    );
    // Every group has its members again, and what they handled after the broker came back is committed.
    await noneLeft(() => memberless(prefix), 'groups without a member');
    await noneLeft(() => uncommitted(prefix), 'partitions not committed to their end');
  }, 300_000);
});
