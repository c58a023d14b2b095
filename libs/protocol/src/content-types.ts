/** What a message may be, and the limits of the fields that name messages. */

/** Seqs are PostgreSQL bigints handled as JS numbers: anything above this is refused at the edge. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export const SEND_CONTENT_TYPES = ['text', 'image', 'file', 'custom'] as const;
export type SendContentType = (typeof SEND_CONTENT_TYPES)[number];
/** Messages that act on another message (its `targetSeq`) instead of saying something. */
export const CONTROL_CONTENT_TYPES = ['recall', 'edit', 'reaction'] as const;
export type ControlContentType = (typeof CONTROL_CONTENT_TYPES)[number];
export const isControlContentType = (contentType: string): contentType is ControlContentType =>
  (CONTROL_CONTENT_TYPES as readonly string[]).includes(contentType);
/** A send mentions at most this many members. */
export const MENTIONS_MAX = 50;
export const REACTION_OPS = ['add', 'remove'] as const;
export type ReactionOp = (typeof REACTION_OPS)[number];
