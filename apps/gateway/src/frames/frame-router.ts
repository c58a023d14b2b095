import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { BatchProducer } from '@im/messaging';
import {
  ClientFrame,
  ClientFrameMap,
  CloseCode,
  ErrorCode,
  parseClientFrame,
  ProtocolError,
} from '@im/protocol';
import { ClientConnection } from '../connections/client-connection';
import { MessageLimiter } from '../limits/message-limiter.service';
import { AcceptMessageUseCase } from '../messaging/accept-message.usecase';
import { QueriesService } from '../queries/queries.service';

const framesIn = metrics.counter('im_gateway_frames_total', 'Client frames by type');
const errorsOut = metrics.counter('im_gateway_errors_total', 'Error frames by code');

/** Validates each client frame and hands it to the use case of its type. */
@Injectable()
export class FrameRouter {
  private readonly logger = new Logger('frames');

  constructor(
    private readonly config: AppConfig,
    private readonly accept: AcceptMessageUseCase,
    private readonly queries: QueriesService,
    private readonly producer: BatchProducer,
    private readonly limiter: MessageLimiter,
  ) {}

  handleText(conn: ClientConnection, text: string): void {
    conn.lastSeenAt = Date.now();
    const parsed = parseClientFrame(text, this.config.MAX_BODY_BYTES);
    if (!parsed.ok) {
      framesIn.inc({ type: 'invalid' });
      return this.fail(conn, parsed.ref, parsed.error);
    }
    framesIn.inc({ type: parsed.frame.type });
    this.dispatch(conn, parsed.frame);
  }

  handleBinary(conn: ClientConnection): void {
    conn.lastSeenAt = Date.now();
    this.fail(
      conn,
      undefined,
      new ProtocolError('bad_request', 'binary frames are not supported; send JSON text'),
    );
  }

  private dispatch(conn: ClientConnection, frame: ClientFrame): void {
    switch (frame.type) {
      case 'ping':
        return conn.send({ type: 'pong', serverTime: Date.now() });
      case 'send':
      case 'recall':
        return this.acceptInOrder(conn, frame);
      case 'typing':
        return this.run(conn, undefined, async () => {
          if (await this.withinLimits(conn, undefined)) await this.signal(conn, frame);
        });
      case 'deliver_ack':
      case 'read':
        return this.run(conn, undefined, () => this.signal(conn, frame));
      case 'sync':
        return this.run(conn, frame.reqId, async () =>
          conn.send(await this.queries.sync(conn.userId, conn.deviceId, frame)),
        );
      case 'history':
        return this.run(conn, frame.reqId, async () =>
          conn.send(await this.queries.history(conn.userId, frame)),
        );
      case 'conversations':
        return this.run(conn, frame.reqId, async () =>
          conn.send(await this.queries.list(conn.userId, frame)),
        );
    }
  }

  /**
   * Sends of one connection are checked strictly one after another and queued to Kafka in
   * arrival order; only the wait for Kafka's acknowledgement overlaps.
   */
  private acceptInOrder(
    conn: ClientConnection,
    frame: ClientFrameMap['send'] | ClientFrameMap['recall'],
  ): void {
    const command = {
      conversationId: frame.conversationId,
      senderId: conn.userId,
      clientMsgId: frame.clientMsgId,
      contentType: frame.type === 'recall' ? 'recall' : frame.contentType,
      body: frame.type === 'recall' ? { targetSeq: frame.targetSeq } : frame.body,
      origin: { gatewayId: this.config.INSTANCE_ID, connId: conn.connId, deviceId: conn.deviceId },
    };
    conn.sendChain = conn.sendChain.then(async () => {
      try {
        // A dependency call that never settles must not wedge this connection's sends for good.
        const admitted = await withTimeout(
          (async () =>
            (await this.withinLimits(conn, frame.clientMsgId)) && (await this.accept.check(command), true))(),
          SEND_CHECK_TIMEOUT_MS,
        );
        if (!admitted) return;
      } catch (error) {
        return this.failWith(conn, frame.clientMsgId, error);
      }
      this.accept.publish(command).catch((error) => {
        this.logger.warn(`send ${frame.clientMsgId} not accepted by Kafka: ${String(error)}`);
        this.fail(
          conn,
          frame.clientMsgId,
          new ProtocolError('unavailable', 'the message could not be accepted; retry'),
        );
      });
    });
  }

  private async signal(conn: ClientConnection, frame: ClientFrameMap['deliver_ack' | 'read' | 'typing']) {
    await this.queries.requireMember(frame.conversationId, conn.userId);
    const base = { userId: conn.userId, deviceId: conn.deviceId, conversationId: frame.conversationId };
    const signal =
      frame.type === 'typing'
        ? { kind: 'typing' as const, ...base }
        : { kind: frame.type, ...base, seq: frame.seq };
    await this.producer.publish('signals', frame.conversationId, signal);
  }

  /** Answers `rate_limited` over the limits, and closes persistent abusers with 4429. */
  private async withinLimits(conn: ClientConnection, ref: string | undefined): Promise<boolean> {
    const verdict = await this.limiter.check(conn);
    if (verdict === 'ok') return true;
    this.fail(conn, ref, new ProtocolError('rate_limited', 'too many messages; slow down and retry later'));
    if (verdict === 'abusive') conn.close(CloseCode.rateLimited, 'rate limit repeatedly exceeded');
    return false;
  }

  private run(conn: ClientConnection, ref: string | undefined, work: () => Promise<void>): void {
    work().catch((error) => this.failWith(conn, ref, error));
  }

  private failWith(conn: ClientConnection, ref: string | undefined, error: unknown): void {
    if (error instanceof ProtocolError) return this.fail(conn, ref, error);
    this.logger.error(`frame of ${conn.key} failed: ${error instanceof Error ? error.stack : String(error)}`);
    this.fail(
      conn,
      ref,
      new ProtocolError(isTransient(error) ? 'unavailable' : 'internal', 'the request failed; retry later'),
    );
  }

  private fail(conn: ClientConnection, ref: string | undefined, error: ProtocolError): void {
    errorsOut.inc({ code: error.code });
    conn.send({
      type: 'error',
      ...(ref !== undefined ? { ref } : {}),
      code: error.code,
      message: error.message,
    });
  }
}

const isTransient = (error: unknown): boolean => {
  const text = String(error);
  return /ECONNREFUSED|ECONNRESET|timeout|timed out|Connection is closed|KafkaJS|terminat/i.test(text);
};

export type { ErrorCode };

/** How long a send's limit and membership checks may take before it is answered `unavailable`. */
const SEND_CHECK_TIMEOUT_MS = 10_000;

/** Settles like `work`, or rejects with `unavailable` after `ms` (`work` is then ignored). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProtocolError('unavailable', 'the server could not check this send in time; retry')),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
