import { Injectable } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { ConversationsRepository, MessagesRepository } from '@im/database';
import { metrics } from '@im/metrics';
import { BatchProducer, InboundMessage, Origin } from '@im/messaging';
import { ProtocolError, SYSTEM_USER_ID } from '@im/protocol';
import { MembershipService } from '@im/realtime';

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
      if (command.contentType === 'recall') await this.checkRecall(command, { admin: true });
      return;
    }
    // The reserved system identity only ever speaks through the admin API.
    if (command.senderId === SYSTEM_USER_ID)
      throw new ProtocolError('forbidden', 'the system identity cannot send from a client connection');
    if (!(await this.membership.isMember(command.conversationId, command.senderId)))
      throw new ProtocolError('forbidden', `not a member of conversation ${command.conversationId}`);
    if (command.contentType === 'recall') await this.checkRecall(command);
  }

  /** Resolves when Kafka (acks=all) holds the message; the ack itself comes after storage. */
  publish(command: AcceptCommand): Promise<void> {
    const event: InboundMessage = { ...command, acceptedAt: Date.now() };
    accepted.inc({ contentType: command.contentType });
    return this.producer.publish('inbound', command.conversationId, event);
  }

  private async checkRecall(command: AcceptCommand, as = { admin: false }): Promise<void> {
    const targetSeq = Number(command.body.targetSeq);
    const target = await this.messages.rawBySeq(command.conversationId, targetSeq);
    if (!target) throw new ProtocolError('not_found', `no message ${targetSeq} in ${command.conversationId}`);
    if (target.content_type === 'recall')
      throw new ProtocolError('bad_request', 'a recall cannot be recalled');
    if (as.admin) return;
    if (target.sender_id !== command.senderId)
      throw new ProtocolError('forbidden', 'only the sender can recall a message');
    if (Date.now() - target.sent_at.getTime() > this.config.RECALL_WINDOW_SECONDS * 1000)
      throw new ProtocolError(
        'forbidden',
        `recall is possible within ${this.config.RECALL_WINDOW_SECONDS} s of sending`,
      );
  }
}
