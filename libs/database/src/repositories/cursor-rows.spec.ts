import type { CursorMove } from './cursors.repository';
import { columns, toMoved, updatedRows, type MovedRow } from './cursor-rows';

describe('toMoved', () => {
  it('maps a moved cursor of a direct conversation with both its members', () => {
    const row: MovedRow = {
      conversation_id: 'd1',
      user_id: 'bob',
      seq: '12',
      type: 'direct',
      member_ids: ['alice', 'bob'],
    };
    expect(toMoved(row)).toStrictEqual({
      conversationId: 'd1',
      userId: 'bob',
      seq: 12,
      conversationType: 'direct',
      directMembers: ['alice', 'bob'],
    });
  });

  it('gives a group (no member list in the row) no direct members', () => {
    const row: MovedRow = {
      conversation_id: 'g1',
      user_id: 'bob',
      seq: '3',
      type: 'group',
      member_ids: null,
    };
    expect(toMoved(row)).toMatchObject({ conversationType: 'group', directMembers: [], seq: 3 });
  });
});

describe('columns', () => {
  it('turns moves into the four parallel arrays of the unnest ($1 users, $2 devices, $3 conversations, $4 seqs)', () => {
    const moves: CursorMove[] = [
      { userId: 'bob', deviceId: 'phone', conversationId: 'c1', seq: 4 },
      { userId: 'carol', deviceId: 'laptop', conversationId: 'c2', seq: 9 },
    ];
    expect(columns(moves)).toStrictEqual([
      ['bob', 'carol'],
      ['phone', 'laptop'],
      ['c1', 'c2'],
      [4, 9],
    ]);
  });
});

describe('updatedRows', () => {
  const a = { user_id: 'a' };
  const b = { user_id: 'b' };

  it('takes the rows out of the [rows, rowCount] of an UPDATE … RETURNING', () => {
    expect(updatedRows([[a, b], 2])).toStrictEqual([a, b]);
    expect(updatedRows([[], 0])).toStrictEqual([]);
  });

  it('returns the rows of a SELECT as they are, two rows included', () => {
    const selected = [a, b];
    expect(updatedRows(selected)).toBe(selected);
    const one = [a];
    expect(updatedRows(one)).toBe(one);
  });
});
