import { Injectable, Logger } from '@nestjs/common';
import { BatchProducer, SequencedMessage, TopicEvents } from '@im/messaging';
import { metrics, stageLatency } from '@im/metrics';
import { MessageStoreRepository } from './message-store.repository';

const stored = metrics.counter('im_storage_messages_total', 'Messages by outcome of their write');

/**
 * Makes a batch of sequenced messages durable, then tells delivery (and through it the
 * sender's gateway) what PostgreSQL now holds for each of them.
 */
@Injectable()
export class PersistBatchUseCase {
  private readonly logger = new Logger('storage');

  constructor(
    private readonly store: MessageStoreRepository,
    private readonly producer: BatchProducer,
  ) {}

  async execute(messages: SequencedMessage[]): Promise<void> {
    const outcomes = await this.store.storeBatch(messages);
    const storedAt = Date.now();
    const events = messages.map((m, i): { key: string; event: TopicEvents['persisted'] } => {
      const { row, inserted } = outcomes[i];
      if (!row) {
        // Only possible if a seq was handed out twice: never ack, never drop silently.
        this.logger.error(
          `seq ${m.seq} of ${m.conversationId} is taken by another message; ${m.clientMsgId} not stored`,
        );
        stored.inc({ outcome: 'conflict' });
        return {
          key: m.conversationId,
          event: {
            rejected: true,
            conversationId: m.conversationId,
            clientMsgId: m.clientMsgId,
            origin: m.origin,
            code: 'unavailable',
            message: 'could not store the message; retry',
          },
        };
      }
      stored.inc({ outcome: inserted ? 'inserted' : 'replay' });
      if (inserted) stageLatency.observe({ stage: 'stored' }, (storedAt - m.sentAt) / 1000);
      return {
        key: m.conversationId,
        event: {
          ...m,
          seq: Number(row.seq),
          messageId: row.message_id,
          sentAt: row.sent_at.getTime(),
          contentType: row.content_type,
          body: row.body,
          fresh: inserted,
          storedAt,
        },
      };
    });
    await this.producer.publishAll('persisted', events);
  }
}
