import { NotFoundException } from '@nestjs/common';
import type { Conversation, ConversationsRepository, UsersRepository } from '@im/database';
import { ConversationLookup, conversationDetail, conversationView } from './conversation-lookup';

const team: Conversation = {
  id: 'c1',
  type: 'group',
  title: 'Team',
  memberIds: ['u1', 'u2'],
  lastSeq: 7,
  retentionDays: null,
};

describe('ConversationLookup', () => {
  function setup(known: Conversation[] = [team], users: string[] = ['u1', 'u2']) {
    const asked: string[][] = [];
    const conversations = {
      get: async (id: string) => known.find((c) => c.id === id) ?? null,
    } as unknown as ConversationsRepository;
    const usersRepo = {
      missing: async (ids: string[]) => {
        asked.push(ids);
        return ids.filter((id) => !users.includes(id));
      },
    } as unknown as UsersRepository;
    return { asked, lookup: new ConversationLookup(conversations, usersRepo) };
  }

  it('returns a conversation that exists', async () => {
    const { lookup } = setup();
    await expect(lookup.require('c1')).resolves.toBe(team);
  });

  it('answers a conversation that does not exist with 404 naming it', async () => {
    const { lookup } = setup();
    const failure = lookup.require('c9');
    await expect(failure).rejects.toBeInstanceOf(NotFoundException);
    await expect(failure).rejects.toThrow('conversation c9 not found');
  });

  it('accepts users that all exist, asking the repository about exactly those', async () => {
    const { lookup, asked } = setup();
    await expect(lookup.requireUsers(['u1', 'u2'])).resolves.toBeUndefined();
    expect(asked).toEqual([['u1', 'u2']]);
  });

  it('answers unknown users with 404 listing every one of them', async () => {
    const { lookup } = setup();
    const failure = lookup.requireUsers(['u1', 'x1', 'u2', 'x2']);
    await expect(failure).rejects.toBeInstanceOf(NotFoundException);
    await expect(failure).rejects.toThrow('unknown users: x1, x2');
  });
});

describe('conversationView', () => {
  it('shows id, type, title and members, and not the internal lastSeq', () => {
    expect(conversationView(team)).toEqual({
      id: 'c1',
      type: 'group',
      title: 'Team',
      memberIds: ['u1', 'u2'],
    });
  });
});

describe('conversationDetail', () => {
  it('adds the last seq and the conversation’s own retention (null: the deployment’s)', () => {
    expect(conversationDetail(team)).toEqual({
      id: 'c1',
      type: 'group',
      title: 'Team',
      memberIds: ['u1', 'u2'],
      lastSeq: 7,
      retentionDays: null,
    });
    expect(conversationDetail({ ...team, retentionDays: 30 }).retentionDays).toBe(30);
  });
});
