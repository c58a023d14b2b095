import { Injectable } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { ConversationsRepository, MessagesRepository } from '@im/database';
import { metrics } from '@im/metrics';
import { BatchProducer, InboundMessage, Origin } from '@im/messaging';
import { isControlContentType, ProtocolError, SYSTEM_USER_ID } from '@im/protocol';
import { MembershipService } from '@im/realtime';
import { editRefusal, mentionsRefusal, reactionRefusal, recallRefusal } from './target-rules';

const accepted = metrics.counter(
  'im_gateway_messages_accepted_total',
  'Messages accepted into Kafka by content type',
);

export interface AcceptCommand {
  conversationId: string;
  senderId: string;
  clientMsgId: string;
  contentType: string;
  body: Record<string, unknown>;
  replyTo?: number;
  mentions?: string[];
  origin: Origin;
  /** Set only by the admin API: a system message or an admin recall. Never from a client frame. */
  admin?: true;
}

/**
 * The edge of the pipeline: checks that the sender may post this message, then hands it to
 * Kafka. `check` and `publish` are separate so that a connection can check its sends one
 * after another (keeping their order) while their publishes overlap.
 */
@Injectable()
export class AcceptMessageUseCase {
  constructor(
    private readonly membership: MembershipService,
    private readonly messages: MessagesRepository,
    private readonly conversations: ConversationsRepository,
    private readonly producer: BatchProducer,
    private readonly config: AppConfig,
  ) {}

  async check(command: AcceptCommand): Promise<void> {
    if (command.admin) {
      if (!(await this.conversations.exists(command.conversationId)))
        throw new ProtocolError('not_found', `conversation ${command.conversationId} not found`);
      // An admin may recall any message, at any time.
      if (command.contentType === 'recall') await this.checkTarget(command, true);
      return;
    }
    // The reserved system identity only ever speaks through the admin API.
    if (command.senderId === SYSTEM_USER_ID)
      throw new ProtocolError('forbidden', 'the system identity cannot send from a client connection');
    if (!(await this.membership.isMember(command.conversationId, command.senderId)))
      throw new ProtocolError('forbidden', `not a member of conversation ${command.conversationId}`);
    try {
      await this.checkContent(command);
    } catch (error) {
      // A resend of a stored message is answered with its ack whatever changed since (the
      // edit window ran out, the target was recalled): the pipeline's dedupe answers it.
      if (
        error instanceof ProtocolError &&
        error.code !== 'unavailable' &&
        (await this.isResendOfStored(command))
      )
        return;
      throw error;
    }
  }

  private async checkContent(command: AcceptCommand): Promise<void> {
    if (isControlContentType(command.contentType)) return this.checkTarget(command, false);
    if (
      command.replyTo !== undefined &&
      !(await this.messages.rawBySeq(command.conversationId, command.replyTo))
    )
      throw new ProtocolError(
        'not_found',
        `no message ${command.replyTo} in ${command.conversationId} to reply to`,
      );
    if (command.mentions) {
      const refusal = mentionsRefusal(
        command.mentions,
        await this.membership.members(command.conversationId),
      );
      if (refusal) throw refusal;
    }
  }

  private isResendOfStored(command: AcceptCommand): Promise<boolean> {
    return this.messages.isStored(command.conversationId, command.senderId, command.clientMsgId);
  }

  /** Resolves when Kafka (acks=all) holds the message; the ack itself comes after storage. */
  publish(command: AcceptCommand): Promise<void> {
    const event: InboundMessage = { ...command, acceptedAt: Date.now() };
    accepted.inc({ contentType: command.contentType });
    return this.producer.publish('inbound', command.conversationId, event);
  }

  /** The rules of a recall, an edit or a reaction, which depend on the message they name. */
  private async checkTarget(command: AcceptCommand, admin: boolean): Promise<void> {
    const c = {
      conversationId: command.conversationId,
      targetSeq: Number(command.body.targetSeq),
      senderId: command.senderId,
      now: Date.now(),
    };
    const target = await this.messages.rawBySeq(c.conversationId, c.targetSeq);
    const refusal =
      command.contentType === 'recall'
        ? recallRefusal(target, c, { admin, windowSeconds: this.config.RECALL_WINDOW_SECONDS })
        : command.contentType === 'edit'
          ? editRefusal(target, c, {
              body: command.body.body as Record<string, unknown>,
              windowSeconds: this.config.EDIT_WINDOW_SECONDS,
              maxBodyBytes: this.config.MAX_BODY_BYTES,
            })
          : reactionRefusal(target, c);
    if (refusal) throw refusal;
  }
}
