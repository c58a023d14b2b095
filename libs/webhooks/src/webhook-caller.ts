import { Injectable } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { signBody } from './signature';
import type { WebhookEventName, WebhookEvents } from './webhook-events';

const callSeconds = metrics.histogram(
  'im_webhook_call_seconds',
  'Webhook calls from request to answer (or timeout), by event and outcome',
);
const calls = metrics.counter('im_webhook_calls_total', 'Webhook calls by event and outcome');

export type WebhookOutcome = 'ok' | 'http_error' | 'timeout' | 'network';

/** A call that did not end in a 2xx answer. */
export class WebhookCallFailed extends Error {
  constructor(
    readonly outcome: Exclude<WebhookOutcome, 'ok'>,
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** One signed POST to WEBHOOK_URL (docs/protocol.md §5.8). */
@Injectable()
export class WebhookCaller {
  constructor(private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.WEBHOOK_URL !== undefined;
  }

  /**
   * POSTs the event and resolves with the answer's text on a 2xx; rejects with
   * WebhookCallFailed otherwise. `deliveryId` is sent as X-IM-Delivery: the caller keeps it the
   * same on every retry of one delivery so that the receiver can drop repeats.
   */
  async post<E extends WebhookEventName>(
    event: E,
    deliveryId: string,
    payload: WebhookEvents[E],
    timeoutMs: number,
  ): Promise<string> {
    const url = this.config.WEBHOOK_URL;
    const secret = this.config.WEBHOOK_SECRET;
    if (url === undefined || secret === undefined) throw new Error('webhooks are not configured');
    const raw = JSON.stringify(payload);
    const started = performance.now();
    const done = (outcome: WebhookOutcome) => {
      callSeconds.observe({ event, outcome }, (performance.now() - started) / 1000);
      calls.inc({ event, outcome });
    };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-im-event': event,
          'x-im-delivery': deliveryId,
          'x-im-signature': signBody(raw, secret),
        },
        body: raw,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (response.status < 200 || response.status > 299) {
        done('http_error');
        throw new WebhookCallFailed('http_error', response.status, `webhook answered ${response.status}`);
      }
      done('ok');
      return text;
    } catch (error) {
      if (error instanceof WebhookCallFailed) throw error;
      // fetch's abort by AbortSignal.timeout() surfaces as a DOMException named TimeoutError.
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      done(timedOut ? 'timeout' : 'network');
      throw new WebhookCallFailed(
        timedOut ? 'timeout' : 'network',
        undefined,
        timedOut ? `webhook gave no answer within ${timeoutMs} ms` : `webhook unreachable: ${String(error)}`,
      );
    }
  }
}
