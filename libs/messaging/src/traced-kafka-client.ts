import { setTraceparent, type Span, traceparentOf, type Tracer } from '@im/tracing';
import type { TopicName } from './events';
import type { BatchConsumerOptions, KafkaClient } from './kafka-client';

/**
 * The handler of a consumer that names a `stage`, with one span per event: the child of the
 * span its Kafka header names, from the batch's start until its output is durable (or it is
 * abandoned or fails). The event then carries the new span's context, so what the handler
 * derives from it and publishes is its child in turn.
 */
export function tracedHandle<T extends TopicName>(
  tracer: Tracer,
  stage: string,
  topic: string,
  handle: BatchConsumerOptions<T>['handle'],
): BatchConsumerOptions<T>['handle'] {
  return async (batch) => {
    const spans: Span[] = [];
    for (const event of batch.events) {
      const parent = traceparentOf(event);
      if (parent === undefined) continue; // untraced: no attributes built for nothing
      const span = tracer.child(stage, parent, 'consumer', {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(batch.partition),
        ...('conversationId' in event && { 'im.conversation_id': event.conversationId }),
        ...('clientMsgId' in event && { 'im.client_msg_id': event.clientMsgId }),
      });
      if (!span) continue;
      setTraceparent(event, span.traceparent);
      spans.push(span);
    }
    if (spans.length === 0) return handle(batch);
    const endAll = (error?: string) => spans.forEach((s) => s.end(error));
    try {
      const outcome = await handle(batch);
      if (outcome === 'abandoned') endAll('abandoned: the partition moved');
      else if (outcome)
        outcome.durable.then(
          () => endAll(),
          (error: unknown) => endAll(String(error)),
        );
      else endAll();
      return outcome;
    } catch (error) {
      endAll(String(error));
      throw error;
    }
  };
}

/** The client, its consumers' stages traced; the client itself when tracing is off. */
export function withTracing(client: KafkaClient, tracer: Tracer | undefined): KafkaClient {
  if (!tracer?.enabled) return client;
  return {
    name: client.name,
    recordSender: () => client.recordSender(),
    consumer: <T extends TopicName>(options: BatchConsumerOptions<T>) =>
      client.consumer(
        options.stage === undefined
          ? options
          : { ...options, handle: tracedHandle(tracer, options.stage, options.topic, options.handle) },
      ),
    ensureTopics: (names) => client.ensureTopics(names),
    ping: () => client.ping(),
    close: () => client.close(),
  };
}
