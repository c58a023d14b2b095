import type { HiddenMessagesRepository, MessageRow, MessagesRepository } from '@im/database';
import { ProtocolError } from '@im/protocol';
import type { QueriesService } from '../../queries/queries.service';
import { HideMessageUseCase } from './hide-message.usecase';

describe('HideMessageUseCase', () => {
  function setUp(members: string[], storedSeqs: number[]) {
    const hidden: string[] = [];
    const useCase = new HideMessageUseCase(
      {
        requireMember: async (c: string, u: string) => {
          if (!members.includes(u)) throw new ProtocolError('forbidden', `not a member of conversation ${c}`);
        },
      } as unknown as QueriesService,
      {
        rawBySeq: async (_c: string, seq: number) => (storedSeqs.includes(seq) ? ({} as MessageRow) : null),
      } as unknown as MessagesRepository,
      {
        hide: async (u: string, c: string, seq: number) => void hidden.push(`${u}|${c}|${seq}`),
      } as unknown as HiddenMessagesRepository,
    );
    return { useCase, hidden };
  }
  const frame = { type: 'hide' as const, reqId: 'h1', conversationId: 'c1', seq: 4 };

  it('hides a stored message for this user and answers hide_result', async () => {
    const { useCase, hidden } = setUp(['bob'], [4]);
    expect(await useCase.execute('bob', frame)).toEqual({
      type: 'hide_result',
      reqId: 'h1',
      conversationId: 'c1',
      seq: 4,
    });
    expect(hidden).toEqual(['bob|c1|4']);
  });

  it('refuses a non-member with forbidden and a seq with no message with not_found, hiding nothing', async () => {
    const outsider = setUp(['bob'], [4]);
    await expect(outsider.useCase.execute('eve', frame)).rejects.toEqual(
      expect.objectContaining({ code: 'forbidden' }) as ProtocolError,
    );
    const missing = setUp(['bob'], []);
    await expect(missing.useCase.execute('bob', frame)).rejects.toEqual(
      expect.objectContaining({ code: 'not_found' }) as ProtocolError,
    );
    expect([...outsider.hidden, ...missing.hidden]).toEqual([]);
  });
});
