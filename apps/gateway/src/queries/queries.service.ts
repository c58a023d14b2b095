import { Injectable } from '@nestjs/common';
import {
  ConversationListRepository,
  ConversationsRepository,
  EpochRepository,
  MessagesRepository,
  ReceiptsRepository,
} from '@im/database';
import {
  ProtocolError,
  ServerFrameMap,
  messageFrame,
  HistoryFrame,
  SyncFrame,
  ConversationsFrame,
  ReceiptsFrame,
  RECEIPTS_USERS_MAX,
} from '@im/protocol';
import { MembershipService } from '@im/realtime';
import { foreignConversations, planSync } from './sync-plan';

/** sync, history and conversations: reads of PostgreSQL, each page O(page) through the seq index. */
@Injectable()
export class QueriesService {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly messages: MessagesRepository,
    private readonly membership: MembershipService,
    private readonly receiptCursors: ReceiptsRepository,
    private readonly conversationList: ConversationListRepository,
    private readonly epochs: EpochRepository,
  ) {}

  async sync(userId: string, deviceId: string, frame: SyncFrame): Promise<ServerFrameMap['sync_result']> {
    // Read with the pages: a client that sees a new epoch here drops what it stored.
    const [epoch, memberships] = await Promise.all([
      this.epochs.current(),
      this.conversations.membershipsForDevice(userId, deviceId),
    ]);
    const foreign = foreignConversations(memberships, frame.cursors);
    if (foreign.length > 0) throw new ProtocolError('forbidden', `not a member of ${foreign[0]}`);

    const limit = frame.limit ?? 200;
    const messages: ServerFrameMap['message'][] = [];
    const cursors: Record<string, number> = {};
    let hasMore = false;
    for (const start of planSync(memberships, frame.cursors)) {
      cursors[start.conversationId] = start.afterSeq;
      if (hasMore || start.lastSeq <= start.afterSeq) continue;
      // A full answer still looks one row ahead: seqs below lastSeq may be gone (retention,
      // hidden), and a hasMore without a row behind it would cost the client an empty page.
      const room = limit - messages.length;
      const page = await this.messages.after(start.conversationId, start.afterSeq, room, userId);
      for (const m of page.messages) messages.push(messageFrame(m));
      if (page.messages.length > 0)
        cursors[start.conversationId] = page.messages[page.messages.length - 1].seq;
      if (page.hasMore) hasMore = true;
    }
    return { type: 'sync_result', reqId: frame.reqId, epoch, messages, cursors, hasMore };
  }

  async history(userId: string, frame: HistoryFrame): Promise<ServerFrameMap['history_result']> {
    await this.requireMember(frame.conversationId, userId);
    const limit = frame.limit ?? 50;
    const page =
      frame.afterSeq !== undefined
        ? await this.messages.after(frame.conversationId, frame.afterSeq, limit, userId)
        : await this.messages.before(frame.conversationId, frame.beforeSeq!, limit, userId);
    return {
      type: 'history_result',
      reqId: frame.reqId,
      conversationId: frame.conversationId,
      messages: page.messages.map(messageFrame),
      hasMore: page.hasMore,
    };
  }

  async list(userId: string, frame: ConversationsFrame): Promise<ServerFrameMap['conversations_result']> {
    return {
      type: 'conversations_result',
      reqId: frame.reqId,
      conversations: await this.conversationList.forUser(userId),
    };
  }

  /** Group delivery and read state is asked for, not pushed (docs/protocol.md §3 `receipts`). */
  async receipts(userId: string, frame: ReceiptsFrame): Promise<ServerFrameMap['receipts_result']> {
    await this.requireMember(frame.conversationId, userId);
    if (!(await this.messages.bySeq(frame.conversationId, frame.seq)))
      throw new ProtocolError('not_found', `no message ${frame.seq} in ${frame.conversationId}`);
    const state = await this.receiptCursors.at(frame.conversationId, userId, frame.seq, RECEIPTS_USERS_MAX);
    return {
      type: 'receipts_result',
      reqId: frame.reqId,
      conversationId: frame.conversationId,
      seq: frame.seq,
      ...state,
    };
  }

  async requireMember(conversationId: string, userId: string): Promise<void> {
    if (!(await this.membership.isMember(conversationId, userId)))
      throw new ProtocolError('forbidden', `not a member of conversation ${conversationId}`);
  }
}
