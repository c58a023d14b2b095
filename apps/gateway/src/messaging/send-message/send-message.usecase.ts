import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { ProtocolError } from '@im/protocol';
import { setTraceparent, type Span, Tracer } from '@im/tracing';
import type { ClientConnection } from '../../connections/client-connection';
import { asProtocolError } from '../../errors/failure-code';
import { MessageLimiter } from '../../limits/message-limiter.service';
import { AcceptCommand, AcceptMessageUseCase } from '../accept-message.usecase';
import { ModerateSendUseCase } from '../moderation/moderate-send.usecase';
import type { PassingCode } from './refusal-fence';
import type { SendMessageCommand } from './send-message.command';
import { withTimeout } from './with-timeout';

/** How long a send's limit and membership checks may take before it is refused `unavailable`. */
export const SEND_CHECK_TIMEOUT_MS = 10_000;

/** Told of each refused send of a connection, in the order the sends arrived. */
export type RefusalListener = (refusal: ProtocolError) => void;

/**
 * A client's send, from its frame to Kafka. The sends of one connection are checked strictly
 * one after another: the order fence (a send behind a refused one is refused with it), the
 * rate limits, the sender's right to post (membership, recall rules), each within
 * SEND_CHECK_TIMEOUT_MS so that a dependency that never answers cannot wedge the connection.
 * Moderation (message.before_send) and the wait for Kafka's acknowledgement overlap between
 * sends, but each send is published or refused in its turn, so they reach Kafka in arrival
 * order. The ack itself comes later, from delivery, once the message is stored.
 */
@Injectable()
export class SendMessageUseCase {
  private readonly logger = new Logger('send');

  constructor(
    private readonly config: AppConfig,
    private readonly accept: AcceptMessageUseCase,
    private readonly limiter: MessageLimiter,
    private readonly moderation: ModerateSendUseCase,
    private readonly tracer: Tracer,
  ) {}

  /**
   * Queues one send behind the connection's earlier ones. `refused` is called for it if it is
   * refused, before or after its publish; the returned promise settles once it is decided (in
   * Kafka's hands or refused), and never rejects.
   */
  execute(conn: ClientConnection, command: SendMessageCommand, refused: RefusalListener): Promise<void> {
    // The trace of this message starts here and ends when it is in Kafka's hands or refused.
    const span = this.tracer.start('accept', undefined, 'server', {
      'im.conversation_id': command.conversationId,
      'im.client_msg_id': command.clientMsgId,
      'im.content_type': command.contentType,
    });
    return this.tracer.run(span, () => this.decide(conn, command, refused, span));
  }

  private decide(
    conn: ClientConnection,
    command: SendMessageCommand,
    refused: RefusalListener,
    span: Span | undefined,
  ): Promise<void> {
    const sends = conn.sends;
    const accept: AcceptCommand = setTraceparent(
      {
        ...command,
        senderId: conn.userId,
        origin: { gatewayId: this.config.INSTANCE_ID, connId: conn.connId, deviceId: conn.deviceId },
      },
      span?.traceparent,
    );
    const refuse = (error: unknown) => {
      const refusal = this.answerable(conn, error);
      sends.fence.refused(command.conversationId, command.clientMsgId, refusal.code, Date.now());
      span?.end(refusal.code);
      refused(refusal);
    };
    // Settles once the publish is decided; the next send waits only for this one's checks.
    let published: Promise<void> = Promise.resolve();
    let turn: Promise<void> = Promise.resolve();
    // Every outcome is settled in the send's turn, so refusals too come in arrival order. With
    // no turn of an earlier send open, a decision that needs no waiting is taken at once: the
    // common case (no moderation) then publishes as soon as its checks pass.
    const inTurn = (decide: () => Promise<void> | void, waits: boolean) => {
      if (!waits && sends.openTurns === 0) return void decide();
      sends.openTurns++;
      turn = sends.publishTurn = sends.publishTurn
        .then(decide)
        .catch((error) => this.logger.error(`send bookkeeping failed: ${String(error)}`))
        .finally(() => sends.openTurns--);
    };
    const settle = (outcome: Moderated, mark: number) => {
      if ('refusal' in outcome) return refuse(outcome.refusal);
      // An earlier send may have been refused while this one was checked or moderated.
      const after = sends.fence.refusedSince(command.conversationId, mark);
      if (after) return refuse(fencedError(after));
      // Queued to the producer now, in this send's turn.
      published = this.accept
        .publish(outcome.command)
        .then(
          () => {
            sends.fence.accepted(command.clientMsgId);
            span?.end();
          },
          (error) => {
            this.logger.warn(`send ${command.clientMsgId} not accepted by Kafka: ${String(error)}`);
            refuse(new ProtocolError('unavailable', 'the message could not be accepted; retry'));
          },
        )
        .catch((error) => this.logger.error(`send bookkeeping failed: ${String(error)}`));
    };
    const checked = sends.chain.then(async () => {
      const before = sends.fence.verdict(command.conversationId, command.clientMsgId, Date.now());
      if (before) return inTurn(() => refuse(fencedError(before)), false);
      const mark = sends.fence.mark(command.conversationId);
      try {
        await withTimeout(this.check(conn, accept), SEND_CHECK_TIMEOUT_MS, checkTimedOut);
      } catch (error) {
        return inTurn(() => refuse(error), false);
      }
      if (!this.moderation.applies(accept)) return inTurn(() => settle({ command: accept }, mark), false);
      // Moderation (a webhook call) overlaps with the next sends' checks and moderation; the
      // publish waits for the sends before it: that keeps Kafka's order.
      const moderated = this.moderated(accept);
      inTurn(async () => settle(await moderated, mark), true);
    });
    sends.chain = checked.catch((error) => this.logger.error(`send bookkeeping failed: ${String(error)}`));
    return sends.chain.then(() => turn).then(() => published);
  }

  /** The command moderation lets through (its body perhaps replaced), or the refusal; never rejects. */
  private async moderated(command: AcceptCommand): Promise<Moderated> {
    try {
      return {
        command: await withTimeout(this.moderation.moderate(command), SEND_CHECK_TIMEOUT_MS, checkTimedOut),
      };
    } catch (refusal) {
      return { refusal };
    }
  }

  private async check(conn: ClientConnection, command: AcceptCommand): Promise<void> {
    if (!this.limiter.check(conn))
      throw new ProtocolError('rate_limited', 'too many messages; slow down and retry later');
    await this.accept.check(command);
  }

  /** The ProtocolError to answer a failure with; what is not one is logged first. */
  private answerable(conn: ClientConnection, error: unknown): ProtocolError {
    if (!(error instanceof ProtocolError))
      this.logger.error(
        `send of ${conn.key} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
    return asProtocolError(error);
  }
}

type Moderated = { command: AcceptCommand } | { refusal: unknown };

const fencedError = (code: PassingCode) =>
  new ProtocolError(
    code,
    'an earlier message to this conversation was refused; resend it first, then this one',
  );

const checkTimedOut = () =>
  new ProtocolError('unavailable', 'the server could not check this send in time; retry');
