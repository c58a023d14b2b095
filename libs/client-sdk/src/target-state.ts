import type { Message, Reaction } from './protocol';

/**
 * How a message stands after the control messages aimed at it (docs/protocol.md §4.3, §7.7),
 * as pure functions. The rule:
 *
 * The client keeps every control message it receives (recall, edit, reaction: messages of the
 * stream, stored by seq like any other). A target's shown state is always recomputed from the
 * server's latest copy of it (its *base*: from a push, a sync page, a history page, or built
 * from an own ack) by applying, in seq order, the held control messages aimed at it whose
 * seq is above both the target's seq and the base's `asOf` (controls up to `asOf` are known to
 * be reflected in the base already). Each one applies idempotently, because a copy read by the
 * server may already reflect more than `asOf` says:
 *
 * - edit: only an edit by the target's sender (the server ignores others), and only if its
 *   sentAt ≥ the target's editedAt; then body = the edit's body, editedAt = its sentAt.
 * - reaction add: adds the sender to that emoji if absent (count + 1); remove: takes them away
 *   if present (count − 1, the emoji is dropped at 0, `reactions` is dropped when empty).
 *   userIds name at most 20 users, in the order they reacted.
 * - recall: the target becomes recalled (body {}, no editedAt or reactions) and nothing
 *   applies after it. A recalled base stays recalled: the server never undoes a recall.
 *
 * Because the result is recomputed from the base every time, controls that arrive in any
 * order (before their target, after it, out of seq order, twice) end in the same state, and
 * once the device holds every message up to the conversation's lastSeq it is the server's.
 */

/** Content types of the control messages: they act on a target and are not chat bubbles. */
export const CONTROL_CONTENT_TYPES: readonly string[] = ['recall', 'edit', 'reaction'];

/** userIds of a reaction name at most this many users (the server's REACTION_USERS_MAX). */
export const REACTION_USERS_MAX = 20;

export function isControl(m: Pick<Message, 'contentType'>): boolean {
  return CONTROL_CONTENT_TYPES.includes(m.contentType);
}

/** The seq a control message acts on; undefined for other messages or a malformed body. */
export function controlTarget(m: Message): number | undefined {
  if (!isControl(m)) return undefined;
  const target = m.body.targetSeq;
  return typeof target === 'number' && Number.isInteger(target) ? target : undefined;
}

/** The server's copy of a message and how far it is known to be up to date. */
export interface TargetBase {
  base: Message;
  /** Every control message with seq ≤ asOf is already reflected in base. */
  asOf: number;
}

/**
 * Picks the base of a message the device holds (`held`) and a new copy of it from the server
 * (`incoming`). The copy known to be newer (higher asOf; the incoming one on a tie) gives the
 * reactions; a recall in either copy wins (it is final), and so does the newer edit.
 */
export function mergeBase(held: TargetBase, incoming: TargetBase): TargetBase {
  const [newer, older] = incoming.asOf >= held.asOf ? [incoming, held] : [held, incoming];
  const base = structuredClone(newer.base);
  if (older.base.recalled) return { base: recalledView(base), asOf: newer.asOf };
  if (!base.recalled && (older.base.editedAt ?? -Infinity) > (base.editedAt ?? -Infinity)) {
    base.body = structuredClone(older.base.body);
    base.editedAt = older.base.editedAt;
  }
  // Every copy carries them (the own one built from the frame too); a missing one is a gap.
  if (base.replyTo === undefined && older.base.replyTo !== undefined) base.replyTo = older.base.replyTo;
  if (base.mentions === undefined && older.base.mentions !== undefined) base.mentions = older.base.mentions;
  return { base, asOf: newer.asOf };
}

/**
 * The message as it stands: `base` with the held control messages `controls` applied (see the
 * rule above). `controls` may hold anything: messages not aimed at base are ignored.
 */
export function applyControls(target: TargetBase, controls: readonly Message[]): Message {
  const { base, asOf } = target;
  const view = structuredClone(base);
  if (view.recalled) return recalledView(view);
  const aimed = controlsOf(base, controls);
  const reactions = ReactionState.of(view.reactions, aimed);
  for (const c of aimed) {
    if (c.seq <= asOf) continue; // already in the base
    if (c.contentType === 'recall') return recalledView(view);
    if (c.contentType === 'edit') applyEdit(view, c);
    else if (c.contentType === 'reaction') reactions.apply(c);
  }
  const summary = reactions.summary();
  if (summary.length > 0) view.reactions = summary;
  else delete view.reactions;
  return view;
}

/** Recalled: `recalled: true`, an empty body, neither editedAt nor reactions. */
export function recalledView(m: Message): Message {
  const view: Message = { ...m, recalled: true, body: {} };
  delete view.editedAt;
  delete view.reactions;
  return view;
}

/** Structural equality of two messages (jsonb reorders object keys, so key order is ignored). */
export function sameMessage(a: Message, b: Message): boolean {
  return deepEqual(a, b);
}

/** The controls aimed at the target and after it, ascending by seq, each seq once. */
function controlsOf(target: Message, controls: readonly Message[]): Message[] {
  const bySeq = new Map<number, Message>();
  for (const c of controls)
    if (c.conversationId === target.conversationId && c.seq > target.seq && controlTarget(c) === target.seq)
      bySeq.set(c.seq, c);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function applyEdit(view: Message, edit: Message): void {
  const body = edit.body.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  // The server changes only the sender's own message, whatever reached the stream.
  if (edit.senderId !== view.senderId) return;
  if (view.editedAt !== undefined && edit.sentAt < view.editedAt) return;
  view.body = structuredClone(body as Record<string, unknown>);
  view.editedAt = edit.sentAt;
}

interface Reactor {
  userId: string;
  /** The seq of the reaction message that added them; -Infinity when unknown (from a base). */
  seq: number;
}

interface EmojiState {
  emoji: string;
  /** Users the base named, in its order (the order they reacted). */
  named: Reactor[];
  /** Users the base counted but did not name (beyond the first 20): they come after `named`. */
  unnamed: number;
  /** Users added by control messages applied on top of the base, ascending by seq. */
  added: Reactor[];
  /** Position in the base's list; new emojis come after every base one. */
  baseIndex: number;
}

/**
 * Reactions per emoji, kept the way the server orders them: users in the order they reacted,
 * emojis by the earliest reaction they still have (an emoji whose every user left and that is
 * added again moves to the end).
 */
class ReactionState {
  private readonly emojis = new Map<string, EmojiState>();

  /**
   * From the base's summary. The summary does not say when its users reacted, but the held
   * reaction messages do: a user's reaction counts from their first add after their last
   * remove (a repeated add changes nothing). That orders the emojis once an earlier reactor
   * leaves; a user no held message explains sorts before every known one.
   */
  static of(summary: readonly Reaction[] | undefined, aimed: readonly Message[]): ReactionState {
    const state = new ReactionState();
    const reactedAt = new Map<string, number>();
    for (const c of aimed)
      if (c.contentType === 'reaction' && typeof c.body.emoji === 'string') {
        const key = `${c.body.emoji}\u0000${c.senderId}`;
        if (c.body.op === 'remove') reactedAt.delete(key);
        else if (!reactedAt.has(key)) reactedAt.set(key, c.seq);
      }
    (summary ?? []).forEach((r, baseIndex) => {
      const named = r.userIds.map((userId) => ({
        userId,
        seq: reactedAt.get(`${r.emoji}\u0000${userId}`) ?? -Infinity,
      }));
      state.emojis.set(r.emoji, {
        emoji: r.emoji,
        named,
        unnamed: Math.max(0, r.count - r.userIds.length),
        added: [],
        baseIndex,
      });
    });
    return state;
  }

  apply(c: Message): void {
    const emoji = c.body.emoji;
    if (typeof emoji !== 'string') return;
    let e = this.emojis.get(emoji);
    const has = (list: Reactor[]) => list.findIndex((r) => r.userId === c.senderId);
    if (c.body.op === 'remove') {
      if (!e) return;
      const named = has(e.named);
      const added = has(e.added);
      if (named >= 0) e.named.splice(named, 1);
      else if (added >= 0) e.added.splice(added, 1);
      // Not among those we can name: with users the base did not name, they were one of them.
      else if (e.unnamed > 0) e.unnamed--;
      if (count(e) === 0) this.emojis.delete(emoji);
      return;
    }
    if (!e) this.emojis.set(emoji, (e = { emoji, named: [], unnamed: 0, added: [], baseIndex: Infinity }));
    if (has(e.named) >= 0 || has(e.added) >= 0) return;
    e.added.push({ userId: c.senderId, seq: c.seq });
  }

  summary(): Reaction[] {
    return [...this.emojis.values()]
      .sort((a, b) => firstReaction(a) - firstReaction(b) || a.baseIndex - b.baseIndex)
      .map((e) => ({
        emoji: e.emoji,
        count: count(e),
        // Users the base did not name come before the added ones, so the list stops at them.
        userIds: (e.unnamed > 0 ? e.named : [...e.named, ...e.added])
          .slice(0, REACTION_USERS_MAX)
          .map((r) => r.userId),
      }));
  }
}

function count(e: EmojiState): number {
  return e.named.length + e.unnamed + e.added.length;
}

/** When the emoji's earliest remaining reaction was made; -Infinity when the base does not say. */
function firstReaction(e: EmojiState): number {
  if (e.named.length > 0) return e.named[0].seq;
  if (e.unnamed > 0) return -Infinity;
  return e.added[0]?.seq ?? Infinity;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}
