import type { DataSource } from 'typeorm';
import { EpochRepository } from './epoch.repository';

describe('EpochRepository', () => {
  function setUp() {
    const state: { epoch: string; down: boolean } = { epoch: 'e1', down: false };
    const db = {
      query: async () => {
        if (state.down) throw new Error('connection refused');
        return [{ epoch: state.epoch }];
      },
    } as unknown as DataSource;
    return { epochs: new EpochRepository(db), state };
  }

  it('reads the epoch every time, so a change in the database is seen at once', async () => {
    const { epochs, state } = setUp();
    expect(await epochs.current()).toBe('e1');
    state.epoch = 'e2';
    expect(await epochs.current()).toBe('e2');
  });

  it('answers with the last value read while PostgreSQL is down, and fails when it never read one', async () => {
    const { epochs, state } = setUp();
    state.down = true;
    await expect(epochs.current()).rejects.toThrow('connection refused');
    state.down = false;
    await epochs.current();
    state.down = true;
    expect(await epochs.current()).toBe('e1');
  });
});
