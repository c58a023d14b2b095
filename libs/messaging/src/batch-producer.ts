import { Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { traceparentOf } from '@im/tracing';
import { TopicEvents, TopicName } from './events';
import { RecordSender, topicFor } from './kafka-client';
import { ProducerNotConnectedError, ProducerStalledError } from './kafka-outage';

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

const streamOf = (r: { topic: string; key: string }) => `${r.topic}\u0000${r.key}`;

/**
 * Splits the queue after a failed request: the records of a stream (topic and key: one
 * partition, one conversation) that failed must not overtake it, so every queued record of
 * such a stream fails with it; the others stay queued, in order.
 */
export function splitAfterFailure<T extends { topic: string; key: string }>(
  failed: readonly T[],
  queue: readonly T[],
): { fallen: T[]; kept: T[] } {
  const streams = new Set(failed.map(streamOf));
  const fallen: T[] = [];
  const kept: T[] = [];
  for (const r of queue) (streams.has(streamOf(r)) ? fallen : kept).push(r);
  return { fallen, kept };
}

interface Pending {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** How long one produce request may stay unanswered before its records fail. */
export const PRODUCE_STALL_MS = 60_000;

export interface BatchProducerOptions {
  /** Records per request. */
  maxBatch?: number;
  /**
   * Bytes of keys and values per request. The broker refuses a partition's record batch over
   * `message.max.bytes` (1 MiB by default) with a non-retriable error, which stopped a storage
   * consumer for good after a backlog built up during a Kafka restart (found by the chaos suite).
   */
  maxRequestBytes?: number;
  /** See sendWithin. */
  stallMs?: number;
  /** Makes a new client when a request stalled. */
  replaceSender?: () => RecordSender;
}

/**
 * The one producer of a process: idempotent, acks=all. Records queued in one tick go out
 * in one request, and one request at a time, so the broker sees records in the order they
 * were queued: a connection's sends keep their order, and the producer never reorders on retry.
 */
export class BatchProducer {
  private queue: Pending[] = [];
  private flushing = false;
  private connected = false;
  /**
   * Streams whose records just failed. A caller learns of the failure a microtask later; a
   * record of the same stream queued in between would otherwise go out ahead of the retry.
   */
  private readonly failedStreams = new Set<string>();
  private failure?: Error;

  private readonly maxBatch: number;
  private readonly maxRequestBytes: number;
  private readonly stallMs: number;
  private readonly logger = new Logger('producer');

  constructor(
    private sender: RecordSender,
    private readonly config: AppConfig,
    private readonly options: BatchProducerOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
    this.stallMs = options.stallMs ?? PRODUCE_STALL_MS;
  }

  async connect(): Promise<void> {
    await this.sender.connect();
    this.connected = true;
  }

  /** Resolves once the record is acknowledged by all in-sync replicas. */
  publish<T extends TopicName>(topic: T, key: string, event: TopicEvents[T]): Promise<void> {
    if (!this.connected) return Promise.reject(new ProducerNotConnectedError());
    const target = topicFor(this.config, topic);
    const failure = this.failedStreams.has(streamOf({ topic: target, key })) ? this.failure : undefined;
    if (failure) return Promise.reject(failure);
    return new Promise<void>((resolve, reject) => {
      // The event's trace context (if it is traced) travels as a W3C header, not in the JSON.
      const traceparent = traceparentOf(event);
      this.queue.push({
        topic: target,
        key,
        value: JSON.stringify(event),
        ...(traceparent !== undefined && { headers: { traceparent } }),
        resolve,
        reject,
      });
      if (!this.flushing) {
        this.flushing = true;
        const linger = this.config.KAFKA_LINGER_MS;
        if (linger > 0) setTimeout(() => void this.flush(), linger);
        else setImmediate(() => void this.flush());
      }
    });
  }

  publishAll<T extends TopicName>(topic: T, items: { key: string; event: TopicEvents[T] }[]): Promise<void> {
    return Promise.all(items.map((i) => this.publish(topic, i.key, i.event))).then(() => undefined);
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, requestSize(this.queue, this.maxBatch, this.maxRequestBytes));
      try {
        await this.sendWithin(batch);
        for (const p of batch) p.resolve();
      } catch (error) {
        const { fallen, kept } = splitAfterFailure(batch, this.queue);
        this.queue = kept;
        for (const p of [...batch, ...fallen]) p.reject(error);
        this.remember(batch, error);
      }
    }
    this.flushing = false;
  }

  /**
   * Sends one request, or gives up on it once it has been pending for `stallMs`: the client's
   * own retries (about a minute) are over by then, and a request that still has no answer
   * would hold every later record of the process behind it (a chaos run saw a gateway's
   * publishes wait for over 100 s after a broker kill -9). The records fail as after any
   * error, so their callers answer `unavailable` and resend; the request may still land
   * later, which the sequencer's dedupe and the consumers' idempotence absorb. The stuck
   * client is replaced, when the producer was given a way to make another.
   */
  private async sendWithin(batch: Pending[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const sending = this.sender.send(batch);
    const stalled = new Promise<'stalled'>((resolve) => {
      timer = setTimeout(() => resolve('stalled'), this.stallMs);
    });
    try {
      if ((await Promise.race([sending, stalled])) !== 'stalled') return;
    } finally {
      clearTimeout(timer);
    }
    sending.catch(() => undefined);
    this.logger.warn(`a produce request got no answer in ${this.stallMs} ms; failing its records`);
    await this.replaceSender();
    throw new ProducerStalledError(this.stallMs);
  }

  private async replaceSender(): Promise<void> {
    if (!this.options.replaceSender) return;
    const stuck = this.sender;
    this.sender = this.options.replaceSender();
    void stuck.disconnect().catch(() => undefined);
    // A new client that cannot connect yet fails the next request as any outage does.
    await this.sender.connect().catch(() => undefined);
  }

  /** Refuses the failed streams until the callers, told in this tick, have reacted. */
  private remember(failed: Pending[], error: unknown): void {
    const first = this.failedStreams.size === 0;
    for (const p of failed) this.failedStreams.add(streamOf(p));
    this.failure = error instanceof Error ? error : new Error(String(error));
    if (first)
      setImmediate(() => {
        this.failedStreams.clear();
        this.failure = undefined;
      });
  }

  async disconnect(): Promise<void> {
    while (this.flushing) await new Promise((r) => setTimeout(r, 10));
    this.connected = false;
    await this.sender.disconnect();
  }
}
