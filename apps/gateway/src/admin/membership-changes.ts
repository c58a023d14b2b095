import { Injectable } from '@nestjs/common';
import { ConversationsRepository } from '@im/database';
import { MembershipService } from '@im/realtime';

/**
 * Every change of who belongs to a conversation: PostgreSQL first, then every gateway's and
 * delivery's cached membership of it is dropped, so a removed member loses access at once
 * everywhere. Nothing else writes members, so nothing can forget the second step.
 */
@Injectable()
export class MembershipChanges {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly membership: MembershipService,
  ) {}

  // A new conversation has a fresh id: no instance holds a cached membership of it yet.
  createGroup(id: string, title: string | null, memberIds: string[]) {
    return this.conversations.createGroup(id, title, memberIds);
  }

  findOrCreateDirect(id: string, a: string, b: string, title: string | null) {
    return this.conversations.findOrCreateDirect(id, a, b, title);
  }

  async addMembers(id: string, userIds: string[]): Promise<void> {
    await this.conversations.addMembers(id, userIds);
    await this.membership.invalidate(id);
  }

  /** False when the user was not a member. */
  async removeMember(id: string, userId: string): Promise<boolean> {
    const removed = await this.conversations.removeMember(id, userId);
    if (removed) await this.membership.invalidate(id);
    return removed;
  }
}
