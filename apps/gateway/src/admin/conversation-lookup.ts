import { Injectable, NotFoundException } from '@nestjs/common';
import { type Conversation, ConversationsRepository, UsersRepository } from '@im/database';

/** What the admin API shows of a conversation. */
export const conversationView = (c: Pick<Conversation, 'id' | 'type' | 'title' | 'memberIds'>) => ({
  id: c.id,
  type: c.type,
  title: c.title,
  memberIds: c.memberIds,
});

/** A conversation as GET, PATCH and the list answer it: with its last seq and its own retention. */
export const conversationDetail = (c: Conversation) => ({
  ...conversationView(c),
  lastSeq: c.lastSeq,
  retentionDays: c.retentionDays,
});

/** The admin API's 404s: a conversation or users that do not exist. */
@Injectable()
export class ConversationLookup {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly users: UsersRepository,
  ) {}

  async require(id: string): Promise<Conversation> {
    const conversation = await this.conversations.get(id);
    if (!conversation) throw new NotFoundException(`conversation ${id} not found`);
    return conversation;
  }

  async requireUsers(ids: string[]): Promise<void> {
    const missing = await this.users.missing(ids);
    if (missing.length > 0) throw new NotFoundException(`unknown users: ${missing.join(', ')}`);
  }
}
