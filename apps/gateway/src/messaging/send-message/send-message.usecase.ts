import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { ProtocolError } from '@im/protocol';
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
 * A client's send, from its frame to Kafka. The sends of one connection are decided strictly
 * one after another: the order fence (a send behind a refused one is refused with it), the
 * rate limits, the sender's right to post (membership, recall rules), each within
 * SEND_CHECK_TIMEOUT_MS so that a dependency that never answers cannot wedge the connection.
 * Only the wait for Kafka's acknowledgement overlaps between sends, so they reach Kafka in
 * arrival order. The ack itself comes later, from delivery, once the message is stored.
 */
@Injectable()
export class SendMessageUseCase {
  private readonly logger = new Logger('send');

  constructor(
    private readonly config: AppConfig,
    private readonly accept: AcceptMessageUseCase,
    private readonly limiter: MessageLimiter,
    private readonly moderation: ModerateSendUseCase,
  ) {}

  /**
   * Queues one send behind the connection's earlier ones. `refused` is called for it if it is
   * refused, before or after its publish; the returned promise settles once it is decided (in
   * Kafka's hands or refused), and never rejects.
   */
  execute(conn: ClientConnection, command: SendMessageCommand, refused: RefusalListener): Promise<void> {
    const sends = conn.sends;
    const accept: AcceptCommand = {
      ...command,
      senderId: conn.userId,
      origin: { gatewayId: this.config.INSTANCE_ID, connId: conn.connId, deviceId: conn.deviceId },
    };
    const refuse = (error: unknown) => {
      const refusal = this.answerable(conn, error);
      sends.fence.refused(command.conversationId, command.clientMsgId, refusal.code, Date.now());
      refused(refusal);
    };
    // Settles once the publish is decided; the next send waits only for this one's checks.
    let published: Promise<void> = Promise.resolve();
    const checked = sends.chain.then(async () => {
      const before = sends.fence.verdict(command.conversationId, command.clientMsgId, Date.now());
      if (before) return refuse(fencedError(before));
      const mark = sends.fence.mark(command.conversationId);
      let toPublish: AcceptCommand;
      try {
        toPublish = await withTimeout(this.check(conn, accept), this.checkTimeoutMs, checkTimedOut);
      } catch (error) {
        return refuse(error);
      }
      // An earlier send's publish may have failed while this one was being checked.
      const after = sends.fence.refusedSince(command.conversationId, mark);
      if (after) return refuse(fencedError(after));
      // Queued to the producer now, in this send's turn: that is what keeps Kafka's order.
      published = this.accept
        .publish(toPublish)
        .then(
          () => sends.fence.accepted(command.clientMsgId),
          (error) => {
            this.logger.warn(`send ${command.clientMsgId} not accepted by Kafka: ${String(error)}`);
            refuse(new ProtocolError('unavailable', 'the message could not be accepted; retry'));
          },
        )
        .catch((error) => this.logger.error(`send bookkeeping failed: ${String(error)}`));
    });
    sends.chain = checked.catch((error) => this.logger.error(`send bookkeeping failed: ${String(error)}`));
    return sends.chain.then(() => published);
  }

  /** The checks, then moderation (a webhook call): the command to publish, or a refusal thrown. */
  private async check(conn: ClientConnection, command: AcceptCommand): Promise<AcceptCommand> {
    if (!this.limiter.check(conn))
      throw new ProtocolError('rate_limited', 'too many messages; slow down and retry later');
    await this.accept.check(command);
    return this.moderation.moderate(command);
  }

  /** The moderation call has its own timeout, on top of the checks' own. */
  private get checkTimeoutMs(): number {
    return SEND_CHECK_TIMEOUT_MS + (this.config.WEBHOOK_BEFORE_SEND ? this.config.WEBHOOK_TIMEOUT_MS : 0);
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

const fencedError = (code: PassingCode) =>
  new ProtocolError(
    code,
    'an earlier message to this conversation was refused; resend it first, then this one',
  );

const checkTimedOut = () =>
  new ProtocolError('unavailable', 'the server could not check this send in time; retry');
