import { foreignConversations, planSync } from './sync-plan';

const memberships = [
  { conversationId: 'a', lastSeq: 10, deliveredSeq: 4 },
  { conversationId: 'b', lastSeq: 3, deliveredSeq: 0 },
];

describe('planSync', () => {
  it('starts from the stored delivered cursor when the client sends none', () => {
    expect(planSync(memberships)).toEqual([
      { conversationId: 'a', afterSeq: 4, lastSeq: 10 },
      { conversationId: 'b', afterSeq: 0, lastSeq: 3 },
    ]);
  });

  it("prefers the client's cursor, even one below the stored cursor", () => {
    expect(planSync(memberships, { a: 1 })[0]).toEqual({ conversationId: 'a', afterSeq: 1, lastSeq: 10 });
  });

  it('finds cursors of conversations the user is not in', () => {
    expect(foreignConversations(memberships, { a: 1, z: 0 })).toEqual(['z']);
  });
});
