import type { EachBatchPayload } from 'kafkajs';
import { setTraceparent } from '@im/tracing';
import type { CommitWatermarks } from '../commit-watermarks';
import { consumerLag } from '../consumer-lag';
import type { TopicEvents, TopicName } from '../events';
import type { BatchConsumerOptions } from '../kafka-client';

/**
 * One kafkajs batch through the handler. A failing handler throws: kafkajs then hands the same
 * batch again, and nothing is committed. Once the output is durable the offset is resolved
 * (kafkajs's fetch position) and becomes eligible for the next commit, unless the partition
 * moved meanwhile (its new owner's progress is its own).
 */
export async function handleKafkajsBatch<T extends TopicName>(
  payload: EachBatchPayload,
  handle: BatchConsumerOptions<T>['handle'],
  watermarks: CommitWatermarks,
): Promise<void> {
  const { batch } = payload;
  if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
  const events = batch.messages.map((m) =>
    setTraceparent(
      JSON.parse(m.value?.toString() ?? 'null') as TopicEvents[T],
      m.headers?.traceparent?.toString(),
    ),
  );
  const behind = Number(batch.offsetLag());
  const outcome = await handle({
    partition: batch.partition,
    events,
    isStale: () => payload.isStale(),
    lag: behind,
  });
  if (outcome === 'abandoned') return;
  // kafkajs hands one batch at a time anyway: a queued output is waited for here.
  if (outcome) await outcome.durable;
  consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, behind);
  payload.resolveOffset(batch.lastOffset());
  if (!payload.isStale()) watermarks.handled(batch.partition, batch.lastOffset());
  await payload.heartbeat();
}
