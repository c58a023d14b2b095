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
import type { PassingCode } from '../messaging/refusal-fence';
import { MessageLimiter } from '../limits/message-limiter.service';
import { AcceptMessageUseCase } from '../messaging/accept-message.usecase';
import { QueriesService } from '../queries/queries.service';
import { asProtocolError } from './failure-code';

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
          this.withinLimits(conn);
          await this.signal(conn, frame);
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
      case 'receipts':
        return this.run(conn, frame.reqId, async () =>
          conn.send(await this.queries.receipts(conn.userId, frame)),
        );
    }
  }

  /**
   * Sends of one connection are checked strictly one after another and queued to Kafka in
   * arrival order; only the wait for Kafka's acknowledgement overlaps. A refusal that may pass
   * fences the conversation (see RefusalFence), so no later send overtakes the refused one.
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
    const fence = conn.sendFence;
    conn.sendChain = conn.sendChain.then(async () => {
      const before = fence.verdict(command.conversationId, command.clientMsgId, Date.now());
      if (before) return this.refuseSend(conn, command, fencedError(before));
      const mark = fence.mark(command.conversationId);
      try {
        // A dependency call that never settles must not wedge this connection's sends for good.
        await withTimeout(
          (async () => {
            this.withinLimits(conn);
            await this.accept.check(command);
          })(),
          SEND_CHECK_TIMEOUT_MS,
        );
      } catch (error) {
        return this.refuseSend(conn, command, error);
      }
      // An earlier send's publish may have failed while this one was being checked.
      const after = fence.refusedSince(command.conversationId, mark);
      if (after) return this.refuseSend(conn, command, fencedError(after));
      this.accept.publish(command).then(
        () => fence.accepted(command.clientMsgId),
        (error) => {
          this.logger.warn(`send ${frame.clientMsgId} not accepted by Kafka: ${String(error)}`);
          this.refuseSend(
            conn,
            command,
            new ProtocolError('unavailable', 'the message could not be accepted; retry'),
          );
        },
      );
    });
  }

  private refuseSend(
    conn: ClientConnection,
    command: { conversationId: string; clientMsgId: string },
    error: unknown,
  ): void {
    const refusal = this.answerable(conn, error);
    conn.sendFence.refused(command.conversationId, command.clientMsgId, refusal.code, Date.now());
    this.refuse(conn, command.clientMsgId, refusal);
  }

  /** Answers a refusal; `rate_limited` ones (fenced ones too) count towards closing with 4429. */
  private refuse(conn: ClientConnection, ref: string | undefined, refusal: ProtocolError): void {
    this.fail(conn, ref, refusal);
    if (refusal.code === 'rate_limited' && this.limiter.recordRefusal(conn) === 'abusive')
      conn.close(CloseCode.rateLimited, 'rate limit repeatedly exceeded');
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

  /** Throws `rate_limited` over the limits (persistent abusers are closed by the caller). */
  private withinLimits(conn: ClientConnection): void {
    if (!this.limiter.check(conn))
      throw new ProtocolError('rate_limited', 'too many messages; slow down and retry later');
  }

  private run(conn: ClientConnection, ref: string | undefined, work: () => Promise<void>): void {
    work().catch((error) => this.refuse(conn, ref, this.answerable(conn, error)));
  }

  /** The ProtocolError to answer a failure with; what is not one is logged first. */
  private answerable(conn: ClientConnection, error: unknown): ProtocolError {
    if (!(error instanceof ProtocolError))
      this.logger.error(
        `frame of ${conn.key} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
    return asProtocolError(error);
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

export type { ErrorCode };

const fencedError = (code: PassingCode) =>
  new ProtocolError(
    code,
    'an earlier message to this conversation was refused; resend it first, then this one',
  );

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
