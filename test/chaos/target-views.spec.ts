import { checkTargetViews, type StandingView } from './target-views';

describe('checkTargetViews', () => {
  const text = (seq: number, extra: Partial<StandingView> = {}): StandingView => ({
    seq,
    contentType: 'text',
    body: { text: `m${seq}` },
    ...extra,
  });
  const control = (seq: number, contentType: string, targetSeq: number): StandingView => ({
    seq,
    contentType,
    body: { targetSeq },
  });
  const db = {
    c1: [
      text(1, {
        body: { text: 'edited' },
        editedAt: 50,
        reactions: [{ emoji: '👍', count: 2, userIds: ['b', 'a'] }],
      }),
      text(2, { recalled: true, body: {} }),
      text(3),
      control(4, 'edit', 1),
      control(5, 'reaction', 1),
      control(6, 'reaction', 1),
      control(7, 'recall', 2),
    ],
  };

  it('passes devices whose targets stand as in the database (reactors in any order)', () => {
    const views = {
      c1: [
        text(1, {
          body: { text: 'edited' },
          editedAt: 50,
          reactions: [{ emoji: '👍', count: 2, userIds: ['a', 'b'] }],
        }),
        text(2, { recalled: true, body: {} }),
        text(3, { body: { text: 'not a target: not compared' } }),
      ],
    };
    expect(checkTargetViews({ db, devices: [{ deviceId: 'd1', views }] })).toEqual({
      targets: 2,
      checked: 2,
      mismatched: 0,
      findings: [],
    });
  });

  it('finds a stale body, a missing edit time, a wrong count and a recall not applied', () => {
    const views = {
      c1: [text(1, { editedAt: 50, reactions: [{ emoji: '👍', count: 2, userIds: ['a', 'b'] }] }), text(2)],
    };
    const other = {
      c1: [text(1, { body: { text: 'edited' }, reactions: [{ emoji: '👍', count: 1, userIds: ['a'] }] })],
    };
    const report = checkTargetViews({
      db,
      devices: [
        { deviceId: 'd1', views },
        { deviceId: 'd2', views: other },
      ],
    });
    expect(report.checked).toBe(3);
    expect(report.mismatched).toBe(3);
    expect(report.findings.map((f) => f.detail.split(':')[0])).toEqual([
      'device d1',
      'device d1',
      'device d2',
    ]);
  });

  it('treats an empty reaction list like none', () => {
    const plain = { c1: [text(3), control(4, 'reaction', 3)] };
    const views = { c1: [text(3, { reactions: [] })] };
    expect(checkTargetViews({ db: plain, devices: [{ deviceId: 'd', views }] }).mismatched).toBe(0);
  });
});
