import type { AppConfig } from '@im/config';
import type { ConversationsRepository, MessageRow, MessagesRepository } from '@im/database';
import type { BatchProducer } from '@im/messaging';
import { ProtocolError } from '@im/protocol';
import type { MembershipService } from '@im/realtime';
import { type AcceptCommand, AcceptMessageUseCase } from './accept-message.usecase';

/** The checks before a message reaches Kafka, with the stores faked. */
describe('AcceptMessageUseCase.check', () => {
  const hourAgo = new Date(Date.now() - 3_600_000);
  const row = (overrides: Partial<MessageRow>): MessageRow =>
    ({
      content_type: 'text',
      sender_id: 'alice',
      sent_at: new Date(),
      recalled: false,
      ...overrides,
    }) as MessageRow;

  function setUp(
    options: { stored?: Record<number, MessageRow>; resends?: string[]; storeDown?: boolean } = {},
  ) {
    const messages = {
      rawBySeq: async (_c: string, seq: number) => options.stored?.[seq] ?? null,
      isStored: async (_c: string, _s: string, clientMsgId: string) => {
        if (options.storeDown) throw new ProtocolError('unavailable', 'PostgreSQL is down');
        return options.resends?.includes(clientMsgId) ?? false;
      },
    } as unknown as MessagesRepository;
    const membership = {
      isMember: async (_c: string, user: string) => ['alice', 'bob'].includes(user),
      members: async () => ['alice', 'bob'],
    } as unknown as MembershipService;
    const conversations = { exists: async (id: string) => id === 'c1' } as unknown as ConversationsRepository;
    const config = { RECALL_WINDOW_SECONDS: 60, EDIT_WINDOW_SECONDS: 60, MAX_BODY_BYTES: 1024 } as AppConfig;
    return new AcceptMessageUseCase(membership, messages, conversations, {} as BatchProducer, config);
  }
  const command = (overrides: Partial<AcceptCommand>): AcceptCommand => ({
    conversationId: 'c1',
    senderId: 'alice',
    clientMsgId: 'm1',
    contentType: 'text',
    body: { text: 'hi' },
    origin: { gatewayId: 'g', connId: 'x', deviceId: 'd' },
    ...overrides,
  });
  const edit = (clientMsgId: string) =>
    command({ clientMsgId, contentType: 'edit', body: { targetSeq: 1, body: { text: 'new' } } });
  const refusalOf = async (promise: Promise<void>) => {
    try {
      await promise;
      return undefined;
    } catch (error) {
      return (error as ProtocolError).code;
    }
  };

  it('refuses non-members and the system identity with forbidden', async () => {
    const useCase = setUp();
    expect(await refusalOf(useCase.check(command({ senderId: 'eve' })))).toBe('forbidden');
    expect(await refusalOf(useCase.check(command({ senderId: 'system' })))).toBe('forbidden');
    expect(await refusalOf(useCase.check(command({})))).toBeUndefined();
  });

  it('refuses an edit after the window, but lets a resend of an edit already stored through to its ack', async () => {
    const useCase = setUp({ stored: { 1: row({ sent_at: hourAgo }) }, resends: ['stored-edit'] });
    expect(await refusalOf(useCase.check(edit('new-edit')))).toBe('forbidden');
    expect(await refusalOf(useCase.check(edit('stored-edit')))).toBeUndefined();
  });

  it('does not take an outage for a refusal: unavailable stays unavailable', async () => {
    const useCase = setUp({ stored: { 1: row({ sent_at: hourAgo }) }, storeDown: true });
    expect(await refusalOf(useCase.check(edit('any')))).toBe('unavailable');
  });

  it('refuses a reply to a seq with no message with not_found, and mentions of non-members with bad_request', async () => {
    const useCase = setUp({ stored: { 1: row({}) } });
    expect(await refusalOf(useCase.check(command({ replyTo: 2 })))).toBe('not_found');
    expect(await refusalOf(useCase.check(command({ replyTo: 1, mentions: ['bob'] })))).toBeUndefined();
    expect(await refusalOf(useCase.check(command({ mentions: ['bob', 'eve'] })))).toBe('bad_request');
  });

  it('lets an admin recall anyone’s message at any time, but not in a conversation that does not exist', async () => {
    const useCase = setUp({ stored: { 1: row({ sender_id: 'bob', sent_at: hourAgo }) } });
    const recall = command({
      senderId: 'system',
      admin: true,
      contentType: 'recall',
      body: { targetSeq: 1 },
    });
    expect(await refusalOf(useCase.check(recall))).toBeUndefined();
    expect(await refusalOf(useCase.check({ ...recall, conversationId: 'nope' }))).toBe('not_found');
  });
});
