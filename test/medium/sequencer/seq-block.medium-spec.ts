import { SeqBlockRepository } from '../../../apps/sequencer/src/sequencing/seq-block.repository';
import { MediumContext } from '../support/medium-context';

/** The sequencer's durable block ceilings (the `xmax` trick) against the real PostgreSQL. */
describe('SeqBlockRepository (real PostgreSQL)', () => {
  let ctx: MediumContext;
  let blocks: SeqBlockRepository;
  const conversation = async () =>
    ctx.newConversation([await ctx.newUser(), await ctx.newUser(), await ctx.newUser()]);

  beforeAll(async () => {
    ctx = await MediumContext.create('seq-blocks');
    blocks = new SeqBlockRepository(ctx.db);
  });
  afterAll(() => ctx.close());

  it('marks only a conversation’s very first block as first, and raises the ceiling by each size', async () => {
    const id = await conversation();
    expect(await blocks.reserve([{ conversationId: id, size: 100 }])).toEqual([
      { conversationId: id, size: 100, ceiling: 100, first: true },
    ]);
    expect(await blocks.reserve([{ conversationId: id, size: 50 }])).toEqual([
      { conversationId: id, size: 50, ceiling: 150, first: false },
    ]);
  });

  it('starts above the stored last seq when the block row was lost, and is then not first', async () => {
    const id = await conversation();
    await ctx.db.query(`UPDATE conversations SET last_seq = 40 WHERE id = $1`, [id]);
    expect(await blocks.reserve([{ conversationId: id, size: 100 }])).toEqual([
      { conversationId: id, size: 100, ceiling: 140, first: false },
    ]);
  });

  it('reserves for many conversations in one call', async () => {
    const [a, b] = [await conversation(), await conversation()];
    const reserved = await blocks.reserve([
      { conversationId: b, size: 10 },
      { conversationId: a, size: 20 },
    ]);
    expect(new Map(reserved.map((r) => [r.conversationId, r.ceiling]))).toEqual(
      new Map([
        [a, 20],
        [b, 10],
      ]),
    );
  });

  it('hands two sequencers reserving at once blocks that do not overlap', async () => {
    const id = await conversation();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => blocks.reserve([{ conversationId: id, size: 100 }])),
    );
    const ceilings = results.map(([r]) => r.ceiling).sort((x, y) => x - y);
    expect(ceilings).toEqual([100, 200, 300, 400, 500, 600, 700, 800]);
    expect(results.filter(([r]) => r.first)).toHaveLength(1);
  });
});
