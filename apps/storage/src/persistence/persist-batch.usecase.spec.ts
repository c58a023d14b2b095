import type { BatchProducer, SequencedMessage } from '@im/messaging';
import type { MessageStoreRepository, StoredOutcome } from './message-store.repository';
import { PersistBatchUseCase } from './persist-batch.usecase';

const message = (seq: number, text: string): SequencedMessage => ({
  conversationId: 'c',
  senderId: 'u',
  clientMsgId: `m${seq}`,
  contentType: 'text',
  body: { text },
  origin: null,
  acceptedAt: 0,
  seq,
  messageId: `id-${seq}`,
  sentAt: 0,
  retry: false,
});

/** A store that refuses, like PostgreSQL's jsonb, any batch holding a NUL character. */
class PickyStore {
  batches = 0;
  async storeBatch(messages: SequencedMessage[]): Promise<StoredOutcome[]> {
    this.batches++;
    if (messages.some((m) => String(m.body.text).includes('\u0000')))
      throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
    return messages.map((m) => ({ inserted: true, row: { seq: String(m.seq) } as never }));
  }
}

describe('PersistBatchUseCase.storeIsolatingBadRows', () => {
  it('stores every good row of a batch and marks only the unstorable ones', async () => {
    const store = new PickyStore();
    const useCase = new PersistBatchUseCase(store as unknown as MessageStoreRepository, {} as BatchProducer);
    const batch = [
      message(1, 'a'),
      message(2, 'b\u0000'),
      message(3, 'c'),
      message(4, 'd'),
      message(5, '\u0000'),
    ];
    const outcomes = await useCase.storeIsolatingBadRows(batch);
    expect(outcomes.map((o) => (o.unstorable ? 'bad' : o.inserted ? 'stored' : '?'))).toEqual([
      'stored',
      'bad',
      'stored',
      'stored',
      'bad',
    ]);
  });

  it('rethrows anything that is not a data error, so the batch is retried whole', async () => {
    const store = {
      storeBatch: () => Promise.reject(Object.assign(new Error('connection terminated'), { code: '57P01' })),
    };
    const useCase = new PersistBatchUseCase(store as unknown as MessageStoreRepository, {} as BatchProducer);
    await expect(useCase.storeIsolatingBadRows([message(1, 'a')])).rejects.toThrow('connection terminated');
  });
});
