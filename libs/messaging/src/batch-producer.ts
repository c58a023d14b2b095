import { Kafka, Producer, Partitioners, CompressionTypes } from 'kafkajs';
import { AppConfig } from '@im/config';
import { TopicEvents, TopicName } from './events';
import { topicFor } from './kafka-client';

/**
 * How many queued records go into the next request: at most `maxCount`, and no more than
 * `maxBytes` of keys and values, but always at least one (a single record is limited by the
 * frame size long before the broker's limit).
 */
export function requestSize(
  queue: readonly { key: string; value: string }[],
  maxCount: number,
  maxBytes: number,
): number {
  let bytes = 0;
  let n = 0;
  while (n < queue.length && n < maxCount) {
    bytes += Buffer.byteLength(queue[n].key) + Buffer.byteLength(queue[n].value);
    if (n > 0 && bytes > maxBytes) break;
    n++;
  }
  return n;
}

interface Pending {
  topic: string;
  key: string;
  value: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * The one producer of a process: idempotent, acks=all. Records queued in one tick go out
 * in one request, and one request at a time, so the broker sees records in the order they
 * were queued: a connection's sends keep their order, and the producer never reorders on retry.
 */
export class BatchProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private flushing = false;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly config: AppConfig,
    private readonly maxBatch = 2000,
    /**
     * Bytes of keys and values per request. The broker refuses a partition's record batch over
     * `message.max.bytes` (1 MiB by default) with a non-retriable error, which stopped a storage
     * consumer for good after a backlog built up during a Kafka restart (found by the chaos suite).
     */
    private readonly maxRequestBytes = 512 * 1024,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      // No retry limit: an idempotent producer must not give up mid-sequence (kafkajs warns otherwise).
      retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: Number.MAX_SAFE_INTEGER },
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Resolves once the record is acknowledged by all in-sync replicas. */
  publish<T extends TopicName>(topic: T, key: string, event: TopicEvents[T]): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('producer is not connected'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        topic: topicFor(this.config, topic),
        key,
        value: JSON.stringify(event),
        resolve,
        reject,
      });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  publishAll<T extends TopicName>(topic: T, items: { key: string; event: TopicEvents[T] }[]): Promise<void> {
    return Promise.all(items.map((i) => this.publish(topic, i.key, i.event))).then(() => undefined);
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, requestSize(this.queue, this.maxBatch, this.maxRequestBytes));
      const byTopic = new Map<string, { key: string; value: string }[]>();
      for (const p of batch) {
        const list = byTopic.get(p.topic) ?? [];
        list.push({ key: p.key, value: p.value });
        byTopic.set(p.topic, list);
      }
      try {
        await this.producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = false;
  }

  async disconnect(): Promise<void> {
    while (this.flushing) await new Promise((r) => setTimeout(r, 10));
    this.connected = false;
    await this.producer.disconnect();
  }
}
