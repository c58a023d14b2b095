import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import type { BatchOutcome, ConsumedBatch, OfflineNotice } from '@im/messaging';
import { WebhookCaller, WebhookCallFailed } from '@im/webhooks';
import { OfflineBacklog } from './offline-backlog';
import { offlineDeliveryId, offlineRetryDelay } from './offline-retry';

const queueDepth = metrics.gauge('im_webhook_queue_depth', 'message.offline notices not delivered yet');
const oldestAge = metrics.gauge(
  'im_webhook_oldest_undelivered_seconds',
  'Age of the oldest message.offline notice still waiting for a 2xx (0 when none waits)',
);
const retries = metrics.counter(
  'im_webhook_retries_total',
  'message.offline deliveries retried after a failure',
);

/** The batch's partition moved, or the service stops: its next owner delivers what is left. */
class DeliveryAbandoned extends Error {}

/**
 * Delivers message.offline (docs/protocol.md §5.8) from its Kafka queue: every notice of a
 * batch is POSTed (a few at a time) and retried with backoff until it gets a 2xx; only then is
 * the batch committed, so a crash anywhere sends it again, with the same X-IM-Delivery. A
 * receiver that is down holds this queue only: the chat's own hops never wait for it.
 */
@Injectable()
export class NotifyOfflineUseCase {
  private readonly logger = new Logger('webhook');
  private readonly stopping = new AbortController();
  private readonly backlog = new OfflineBacklog();

  constructor(
    private readonly config: AppConfig,
    private readonly caller: WebhookCaller,
  ) {}

  async execute(batch: ConsumedBatch<'offline'>): Promise<BatchOutcome> {
    this.backlog.begin(batch.partition, batch.lag, batch.events);
    try {
      await eachAtMost(this.config.WEBHOOK_CONCURRENCY, batch.events, (notice) =>
        this.deliver(notice, batch.partition, batch.isStale),
      );
      return undefined;
    } catch (error) {
      if (error instanceof DeliveryAbandoned) return 'abandoned';
      throw error;
    } finally {
      this.backlog.end(batch.partition);
      this.refreshGauges();
    }
  }

  /** Ends the retry waits at once: the service is stopping. */
  stop(): void {
    this.stopping.abort();
  }

  refreshGauges(now = Date.now()): void {
    queueDepth.set({}, this.backlog.depth());
    const oldest = this.backlog.oldestStoredAt();
    oldestAge.set({}, oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000));
  }

  private async deliver(notice: OfflineNotice, partition: number, isStale: () => boolean): Promise<void> {
    const payload = {
      messageId: notice.messageId,
      conversationId: notice.conversationId,
      seq: notice.seq,
      senderId: notice.senderId,
      contentType: notice.contentType,
      preview: notice.preview,
      recipients: notice.recipients,
    };
    const deliveryId = offlineDeliveryId(notice.messageId);
    for (let attempt = 1; ; attempt++) {
      if (isStale() || this.stopping.signal.aborted) throw new DeliveryAbandoned();
      try {
        await this.caller.post(
          'message.offline',
          deliveryId,
          payload,
          this.config.WEBHOOK_OFFLINE_TIMEOUT_MS,
        );
        this.backlog.delivered(partition, notice.messageId);
        return;
      } catch (error) {
        if (!(error instanceof WebhookCallFailed)) throw error;
        // The first failure and then one in ten, so that a receiver down for hours does not flood the log.
        if (attempt % 10 === 1)
          this.logger.warn(`message.offline ${deliveryId}: ${error.message} (attempt ${attempt})`);
      }
      retries.inc();
      const wait = offlineRetryDelay(
        attempt,
        this.config.WEBHOOK_RETRY_INITIAL_MS,
        this.config.WEBHOOK_RETRY_MAX_MS,
      );
      await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }
}

/** Runs `work` over the items, at most `limit` at a time; the first failure stops new starts and is rethrown. */
async function eachAtMost<T>(
  limit: number,
  items: readonly T[],
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
