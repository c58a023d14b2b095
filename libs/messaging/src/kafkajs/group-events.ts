import type { Consumer } from 'kafkajs';

/** What the adapter hears of a kafkajs consumer's group. */
export interface GroupListener {
  /** A fetch came back (empty or not): the consumer is alive. */
  fetched(): void;
  /** The group was joined with these partitions of the topic. */
  joined(partitions: number[]): void;
  /** Partitions are about to move. */
  rebalancing(): void;
  /** kafkajs gave up on an error it does not retry: the consumer stopped for good. */
  crashedForGood(error: unknown): void;
}

export function listenToGroup(consumer: Consumer, topic: string, listener: GroupListener): Consumer {
  consumer.on(consumer.events.FETCH, () => listener.fetched());
  consumer.on(consumer.events.GROUP_JOIN, (e) => listener.joined(e.payload.memberAssignment[topic] ?? []));
  consumer.on(consumer.events.REBALANCING, () => listener.rebalancing());
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) listener.crashedForGood(e.payload.error);
  });
  return consumer;
}
