import { Client } from 'pg';
import { setup } from '../support/context';

/** docs/protocol.md §2 `epoch`: the history's generation, the same everywhere, changed only in the database. */
describe('epoch', () => {
  const ctx = setup();

  async function setEpochSql(sql: string): Promise<void> {
    const pg = new Client({ connectionString: ctx.stack.databaseUrl });
    await pg.connect();
    try {
      await pg.query(sql);
    } finally {
      await pg.end();
    }
  }

  async function epochsSeen() {
    const alice = await ctx.newUser('alice');
    const [a, b] = [await ctx.connect(alice, { gateway: 0 }), await ctx.connect(alice, { gateway: 1 })];
    const sync = await b.request({ type: 'sync' });
    return { welcome0: a.frames[0].epoch, welcome1: b.frames[0].epoch, sync: sync.epoch };
  }

  it('is the same in every gateway’s welcome and in sync_result', async () => {
    const seen = await epochsSeen();
    expect(seen.welcome0).toMatch(/^.{1,64}$/);
    expect(seen).toEqual({ welcome0: seen.welcome0, welcome1: seen.welcome0, sync: seen.welcome0 });
  });

  it('changes for every gateway at once when it is changed in the database (after a restore)', async () => {
    const before = (await epochsSeen()).welcome0;
    await setEpochSql(`UPDATE history_epoch SET epoch = gen_random_uuid()::text, changed_at = now()`);
    const after = await epochsSeen();
    expect(after.welcome0).not.toBe(before);
    expect(after).toEqual({ welcome0: after.welcome0, welcome1: after.welcome0, sync: after.welcome0 });
  });
});
