import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { ClientFrameMap, ClientFrameType, CloseCode, parseClientFrame, ProtocolError } from '@im/protocol';
import { ClientConnection } from '../connections/client-connection';
import { asProtocolError } from '../errors/failure-code';
import { MessageLimiter } from '../limits/message-limiter.service';
import { ForwardSignalUseCase } from '../messaging/forward-signal/forward-signal.usecase';
import { HideMessageUseCase } from '../messaging/hide-message/hide-message.usecase';
import { type MessageFrame, sendCommandOf } from '../messaging/send-message/send-message.command';
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
    private readonly hides: HideMessageUseCase,
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

  /** One handler per frame type; the compiler checks that every type of the contract has one. */
  private readonly handlers: {
    [K in ClientFrameType]: (conn: ClientConnection, frame: ClientFrameMap[K]) => void;
  } = {
    ping: (conn) => conn.send({ type: 'pong', serverTime: Date.now() }),
    send: (conn, frame) => this.send(conn, frame),
    edit: (conn, frame) => this.send(conn, frame),
    react: (conn, frame) => this.send(conn, frame),
    recall: (conn, frame) => this.send(conn, frame),
    hide: (conn, frame) =>
      this.run(conn, frame.reqId, async () => conn.send(await this.hides.execute(conn.userId, frame))),
    typing: (conn, frame) => this.run(conn, undefined, () => this.signals.execute(conn, frame)),
    deliver_ack: (conn, frame) => this.run(conn, undefined, () => this.signals.execute(conn, frame)),
    read: (conn, frame) => this.run(conn, undefined, () => this.signals.execute(conn, frame)),
    sync: (conn, frame) =>
      this.run(conn, frame.reqId, async () =>
        conn.send(await this.queries.sync(conn.userId, conn.deviceId, frame)),
      ),
    history: (conn, frame) =>
      this.run(conn, frame.reqId, async () => conn.send(await this.queries.history(conn.userId, frame))),
    conversations: (conn, frame) =>
      this.run(conn, frame.reqId, async () => conn.send(await this.queries.list(conn.userId, frame))),
    receipts: (conn, frame) =>
      this.run(conn, frame.reqId, async () => conn.send(await this.queries.receipts(conn.userId, frame))),
  };

  private dispatch<K extends ClientFrameType>(conn: ClientConnection, frame: ClientFrameMap[K]): void {
    (this.handlers[frame.type as K] as (conn: ClientConnection, frame: ClientFrameMap[K]) => void)(
      conn,
      frame,
    );
  }

  private send(conn: ClientConnection, frame: MessageFrame): void {
    void this.sends.execute(conn, sendCommandOf(frame), (refusal) =>
      this.refuse(conn, frame.clientMsgId, refusal),
    );
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
