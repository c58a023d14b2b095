import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { ClientFrame, CloseCode, parseClientFrame, ProtocolError } from '@im/protocol';
import { ClientConnection } from '../connections/client-connection';
import { asProtocolError } from '../errors/failure-code';
import { MessageLimiter } from '../limits/message-limiter.service';
import { ForwardSignalUseCase } from '../messaging/forward-signal/forward-signal.usecase';
import { sendCommandOf } from '../messaging/send-message/send-message.command';
import { SendMessageUseCase } from '../messaging/send-message/send-message.usecase';
import { QueriesService } from '../queries/queries.service';

const framesIn = metrics.counter('im_gateway_frames_total', 'Client frames by type');
const errorsOut = metrics.counter('im_gateway_errors_total', 'Error frames by code');

/** Validates each client frame and hands it to the use case of its type. */
@Injectable()
export class FrameRouter {
  private readonly logger = new Logger('frames');

  constructor(
    private readonly config: AppConfig,
    private readonly sends: SendMessageUseCase,
    private readonly signals: ForwardSignalUseCase,
    private readonly queries: QueriesService,
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
        return void this.sends.execute(conn, sendCommandOf(frame), (refusal) =>
          this.refuse(conn, frame.clientMsgId, refusal),
        );
      case 'typing':
      case 'deliver_ack':
      case 'read':
        return this.run(conn, undefined, () => this.signals.execute(conn, frame));
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

  /** Answers a refusal; `rate_limited` ones (fenced ones too) count towards closing with 4429. */
  private refuse(conn: ClientConnection, ref: string | undefined, refusal: ProtocolError): void {
    this.fail(conn, ref, refusal);
    if (refusal.code === 'rate_limited' && this.limiter.recordRefusal(conn) === 'abusive')
      conn.close(CloseCode.rateLimited, 'rate limit repeatedly exceeded');
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
