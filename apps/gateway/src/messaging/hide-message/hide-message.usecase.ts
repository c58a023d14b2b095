import { Injectable } from '@nestjs/common';
import { HiddenMessagesRepository, MessagesRepository } from '@im/database';
import { ProtocolError, type ClientFrameMap, type ServerFrameMap } from '@im/protocol';
import { QueriesService } from '../../queries/queries.service';

/**
 * "Delete for me": a member hides a stored message from their own history and sync, on every
 * device of theirs. Nothing is pushed: the user's other devices leave it out from their next
 * history or sync, and nobody else is affected.
 */
@Injectable()
export class HideMessageUseCase {
  constructor(
    private readonly queries: QueriesService,
    private readonly messages: MessagesRepository,
    private readonly hidden: HiddenMessagesRepository,
  ) {}

  async execute(userId: string, frame: ClientFrameMap['hide']): Promise<ServerFrameMap['hide_result']> {
    const { conversationId, seq } = frame;
    await this.queries.requireMember(conversationId, userId);
    if (!(await this.messages.rawBySeq(conversationId, seq)))
      throw new ProtocolError('not_found', `no message ${seq} in ${conversationId}`);
    await this.hidden.hide(userId, conversationId, seq);
    return { type: 'hide_result', reqId: frame.reqId, conversationId, seq };
  }
}
