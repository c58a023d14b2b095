import type { BatchProducer, TopicEvents, TopicName } from '@im/messaging';

/**
 * Stands in for Kafka between use cases run in-process: what a use case publishes is kept per
 * topic, in order, for the spec to hand to the next use case. Never a claim about Kafka.
 */
export class CapturingProducer {
  readonly published: { [T in TopicName]: TopicEvents[T][] } = {
    inbound: [],
    sequenced: [],
    persisted: [],
    signals: [],
    offline: [],
  };

  publish<T extends TopicName>(topic: T, _key: string, event: TopicEvents[T]): Promise<void> {
    this.published[topic].push(event);
    return Promise.resolve();
  }

  publishAll<T extends TopicName>(topic: T, items: { key: string; event: TopicEvents[T] }[]): Promise<void> {
    for (const i of items) this.published[topic].push(i.event);
    return Promise.resolve();
  }

  /** What was published to `topic` since the last take. */
  take<T extends TopicName>(topic: T): TopicEvents[T][] {
    return this.published[topic].splice(0);
  }

  asProducer(): BatchProducer {
    return this as unknown as BatchProducer;
  }
}
