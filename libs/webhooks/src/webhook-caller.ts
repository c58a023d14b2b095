import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
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

class CallTimedOut extends Error {}

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

/** Longest answer body read; a verdict is a few bytes, anything past this is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One signed POST to WEBHOOK_URL (docs/protocol.md §5.8). node:http with a keep-alive agent
 * rather than fetch: half the CPU per call, measured (test/bench/README.md, Webhooks), and
 * every message may make one.
 */
@Injectable()
export class WebhookCaller implements OnModuleDestroy {
  private readonly agent: HttpAgent;
  private readonly secure: boolean;

  constructor(private readonly config: AppConfig) {
    this.secure = config.WEBHOOK_URL?.startsWith('https:') ?? false;
    const options = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16 };
    this.agent = this.secure ? new HttpsAgent(options) : new HttpAgent(options);
  }

  onModuleDestroy(): void {
    this.agent.destroy();
  }

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
      const { status, text } = await this.request(
        url,
        raw,
        {
          'content-type': 'application/json',
          'x-im-event': event,
          'x-im-delivery': deliveryId,
          'x-im-signature': signBody(raw, secret),
        },
        timeoutMs,
      );
      if (status < 200 || status > 299) {
        done('http_error');
        throw new WebhookCallFailed('http_error', status, `webhook answered ${status}`);
      }
      done('ok');
      return text;
    } catch (error) {
      if (error instanceof WebhookCallFailed) throw error;
      const timedOut = error instanceof CallTimedOut;
      done(timedOut ? 'timeout' : 'network');
      throw new WebhookCallFailed(
        timedOut ? 'timeout' : 'network',
        undefined,
        timedOut ? `webhook gave no answer within ${timeoutMs} ms` : `webhook unreachable: ${String(error)}`,
      );
    }
  }

  /** The answer's status and text; rejects on a network error or with CallTimedOut. */
  private request(
    url: string,
    raw: string,
    headers: Record<string, string>,
    timeoutMs: number,
    retryOnStaleSocket = true,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const send = this.secure ? httpsRequest : httpRequest;
      const req = send(url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'content-length': Buffer.byteLength(raw) },
      });
      // The whole call, answer included, within timeoutMs.
      const timer = setTimeout(() => req.destroy(new CallTimedOut()), timeoutMs);
      req.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // A kept-alive socket the receiver closed just as it was reused: the request never
        // reached it, so one more try on a fresh socket is safe (node's documented pattern).
        if (retryOnStaleSocket && req.reusedSocket && error.code === 'ECONNRESET')
          this.request(url, raw, headers, timeoutMs, false).then(resolve, reject);
        else reject(error);
      });
      req.once('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        res.once('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      req.end(raw);
    });
  }
}
