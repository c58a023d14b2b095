/**
 * The chaos checker's view of edits, reactions and recalls: every device's copy of each
 * message that a control message names must equal what PostgreSQL holds once the run has
 * converged (body, editedAt, reactions, recalled). Pure logic over what the devices and the
 * database hold.
 */

export interface ReactionView {
  emoji: string;
  count: number;
  userIds: string[];
}

/** A message as it stands, on a device or in the database. */
export interface StandingView {
  seq: number;
  contentType: string;
  body: Record<string, unknown>;
  editedAt?: number;
  reactions?: ReactionView[];
  recalled?: boolean;
}

export interface TargetViewInput {
  /** conversationId → the database's messages, every one (control messages name the targets). */
  db: Record<string, StandingView[]>;
  devices: { deviceId: string; views: Record<string, StandingView[]> }[];
}

export interface TargetViewReport {
  /** Targets of control messages in the database. */
  targets: number;
  /** (target, device holding it) pairs compared. */
  checked: number;
  mismatched: number;
  findings: { kind: 'target_mismatch'; detail: string }[];
}

const CONTROL = new Set(['recall', 'edit', 'reaction']);
const MAX_FINDINGS = 100;

/** The users of a reaction summary compared as a set: the server lists the first 20 in reaction order. */
const normalizedReactions = (reactions: ReactionView[] | undefined) =>
  (reactions ?? [])
    .filter((r) => r.count > 0)
    .map((r) => ({ emoji: r.emoji, count: r.count, userIds: r.count <= 20 ? [...r.userIds].sort() : [] }))
    .sort((a, b) => a.emoji.localeCompare(b.emoji));

/** What must agree: a recalled message is only "recalled". */
export function standing(view: StandingView): unknown {
  if (view.recalled) return { recalled: true };
  return { body: view.body, editedAt: view.editedAt ?? null, reactions: normalizedReactions(view.reactions) };
}

export function checkTargetViews(input: TargetViewInput): TargetViewReport {
  const findings: TargetViewReport['findings'] = [];
  let checked = 0;
  let mismatched = 0;
  const targets = new Map<string, Map<number, StandingView>>();
  for (const [conversationId, rows] of Object.entries(input.db)) {
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    const named = new Map<number, StandingView>();
    for (const r of rows) {
      if (!CONTROL.has(r.contentType)) continue;
      const target = bySeq.get(Number(r.body.targetSeq));
      if (target && !CONTROL.has(target.contentType)) named.set(target.seq, target);
    }
    targets.set(conversationId, named);
  }
  for (const device of input.devices) {
    for (const [conversationId, views] of Object.entries(device.views)) {
      const named = targets.get(conversationId);
      if (!named) continue;
      for (const view of views) {
        const truth = named.get(view.seq);
        if (!truth) continue;
        checked++;
        const expected = JSON.stringify(standing(truth));
        const actual = JSON.stringify(standing(view));
        if (expected === actual) continue;
        mismatched++;
        if (findings.length < MAX_FINDINGS)
          findings.push({
            kind: 'target_mismatch',
            detail: `device ${device.deviceId}: ${conversationId}#${view.seq} is ${actual}; the database says ${expected}`,
          });
      }
    }
  }
  let count = 0;
  for (const named of targets.values()) count += named.size;
  return { targets: count, checked, mismatched, findings };
}
