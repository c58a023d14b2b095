import { Injectable, Logger } from '@nestjs/common';
import { BatchProducer, SequencedMessage, TopicEvents } from '@im/messaging';
import { metrics, stageLatency } from '@im/metrics';
import { sendExtras } from '@im/database';
import { MessageStoreRepository, StoredOutcome } from './message-store.repository';

const stored = metrics.counter('im_storage_messages_total', 'Messages by outcome of their write');

const describe = (m: SequencedMessage) =>
  JSON.stringify({ conversationId: m.conversationId, seq: m.seq, clientMsgId: m.clientMsgId });

/** The persisted-topic answer for a message that was not stored: its sender gets an error. */
const rejection = (
  m: SequencedMessage,
  code: 'bad_request' | 'unavailable',
  message: string,
): { key: string; event: TopicEvents['persisted'] } => ({
  key: m.conversationId,
  event: {
    rejected: true,
    conversationId: m.conversationId,
    clientMsgId: m.clientMsgId,
    origin: m.origin,
    code,
    message,
  },
});

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

  /**
   * A row PostgreSQL refuses as data (SQLSTATE class 22, e.g. a character jsonb cannot hold)
   * would fail its batch forever and block the partition: bisect the batch down to the bad
   * rows and store everything else. Any other error (a connection, a restart) is thrown, so
   * the batch is retried as a whole.
   */
  async storeIsolatingBadRows(
    messages: SequencedMessage[],
  ): Promise<(StoredOutcome & { unstorable?: string })[]> {
    try {
      return await this.store.storeBatch(messages);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('22')) throw error;
      if (messages.length === 1)
        return [{ row: null, inserted: false, unstorable: `${code} ${String(error)}` }];
      const half = Math.ceil(messages.length / 2);
      return [
        ...(await this.storeIsolatingBadRows(messages.slice(0, half))),
        ...(await this.storeIsolatingBadRows(messages.slice(half))),
      ];
    }
  }

  /** Stores the batch; `durable` resolves once its `persisted` events are in Kafka (the next batch is stored meanwhile). */
  async execute(messages: SequencedMessage[]): Promise<{ durable: Promise<void> }> {
    const outcomes = await this.storeIsolatingBadRows(messages);
    const storedAt = Date.now();
    const events = messages.map((m, i): { key: string; event: TopicEvents['persisted'] } => {
      const { row, inserted } = outcomes[i];
      if (outcomes[i].unstorable) {
        // PostgreSQL refuses this one row's data: answer the sender, keep the partition moving.
        this.logger.error(`message not storable: ${outcomes[i].unstorable} ${describe(m)}`);
        stored.inc({ outcome: 'unstorable' });
        return rejection(m, 'bad_request', 'the message cannot be stored');
      }
      if (!row) {
        // Only possible if a seq was handed out twice: never ack, never drop silently.
        this.logger.error(`seq taken by another message; not stored ${describe(m)}`);
        stored.inc({ outcome: 'conflict' });
        return rejection(m, 'unavailable', 'could not store the message; retry');
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
          // What was stored first, not what a resend said.
          replyTo: undefined,
          mentions: undefined,
          ...sendExtras(row),
          fresh: inserted,
          storedAt,
        },
      };
    });
    return { durable: this.producer.publishAll('persisted', events) };
  }
}
