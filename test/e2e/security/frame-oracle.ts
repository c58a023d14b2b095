/**
 * What docs/protocol.md §3/§4 says the answer to a client frame must be, written from the protocol
 * text only (it does not use the server's validator, so it can disagree with it), and an exact
 * matcher of the answers one connection got against the frames it sent.
 */

export const ERROR_CODES = [
  'bad_request',
  'forbidden',
  'not_found',
  'too_large',
  'rate_limited',
  'unavailable',
  'rejected',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export type AnswerKind =
  | 'ack'
  | 'pong'
  | 'sync_result'
  | 'history_result'
  | 'conversations_result'
  | 'receipts_result'
  | `error:${ErrorCode}`;

export interface Expectation {
  /** The answers this frame may get: exactly one of them, or none when `silentOk`. */
  options: AnswerKind[];
  silentOk: boolean;
  /** String values of its clientMsgId/reqId: an answer may carry one of them. */
  ids: string[];
  /**
   * Its valid ids: if any, the answer must carry an id (docs/protocol.md §4 `ref`): one of these, or
   * another of `ids` (a frame with an invalid clientMsgId and a valid reqId may be answered with either).
   */
  mustCarry: string[];
  /** Why, for reports. */
  reason: string;
}

export interface World {
  /** Conversations the sender is a member of. */
  own: ReadonlySet<string>;
  /** Conversations that exist (members or not). */
  existing: ReadonlySet<string>;
}

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ENTITY_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const CONTENT_TYPES = ['text', 'image', 'file', 'custom'];
const MAX_BODY_BYTES = 32 * 1024;

const FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  send: { required: ['clientMsgId', 'conversationId', 'contentType', 'body'], optional: [] },
  recall: { required: ['clientMsgId', 'conversationId', 'targetSeq'], optional: [] },
  deliver_ack: { required: ['conversationId', 'seq'], optional: [] },
  read: { required: ['conversationId', 'seq'], optional: [] },
  sync: { required: ['reqId'], optional: ['cursors', 'limit'] },
  history: { required: ['reqId', 'conversationId'], optional: ['afterSeq', 'beforeSeq', 'limit'] },
  conversations: { required: ['reqId'], optional: [] },
  receipts: { required: ['reqId', 'conversationId', 'seq'], optional: [] },
  typing: { required: ['conversationId'], optional: [] },
  ping: { required: [], optional: [] },
};
export const FRAME_TYPES = Object.keys(FIELDS);
/** Every field name of every client frame. */
export const FIELD_NAMES = [...new Set(Object.values(FIELDS).flatMap((f) => [...f.required, ...f.optional]))];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function idsOf(value: unknown): { ids: string[]; mustCarry: string[] } {
  if (!isPlainObject(value)) return { ids: [], mustCarry: [] };
  const ids = ['clientMsgId', 'reqId']
    .map((k) => (Object.hasOwn(value, k) ? value[k] : undefined))
    .filter((v): v is string => typeof v === 'string');
  return { ids, mustCarry: ids.filter((id) => CLIENT_ID.test(id)) };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a JSON value holds a string (or key) with NUL or a lone UTF-16 surrogate. */
function unstorable(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000') || LONE_SURROGATE.test(v)) return true;
    } else if (Array.isArray(v)) stack.push(...(v as unknown[]));
    else if (isPlainObject(v)) for (const [k, item] of Object.entries(v)) stack.push(k, item);
  }
  return false;
}

type Verdict = { problems: string[]; ambiguities: string[]; tooLarge: boolean };

function checkInt(v: unknown, min: number, max: number | undefined, name: string, out: Verdict): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) out.problems.push(`${name} is not an integer`);
  else if (v < min) out.problems.push(`${name} < ${min}`);
  else if (max !== undefined && v > max) out.problems.push(`${name} > ${max}`);
  // docs/protocol.md gives no upper bound; beyond 2^53 a server may refuse or take it.
  else if (!Number.isSafeInteger(v)) out.ambiguities.push(`${name} beyond 2^53`);
}

/** Syntax of docs/protocol.md §3 for a parsed JSON value. */
function checkSyntax(value: unknown): Verdict & { type?: string } {
  const out: Verdict = { problems: [], ambiguities: [], tooLarge: false };
  if (!isPlainObject(value)) return { ...out, problems: ['not a JSON object'] };
  const type = value.type;
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) return { ...out, problems: ['unknown type'] };
  const spec = FIELDS[type];
  for (const key of Object.keys(value))
    if (key !== 'type' && !spec.required.includes(key) && !spec.optional.includes(key))
      out.problems.push(`unknown field ${key}`);
  for (const key of spec.required) if (!Object.hasOwn(value, key)) out.problems.push(`missing ${key}`);
  const has = (k: string) => Object.hasOwn(value, k);
  if (has('clientMsgId') && !(typeof value.clientMsgId === 'string' && CLIENT_ID.test(value.clientMsgId)))
    out.problems.push('bad clientMsgId');
  if (has('reqId') && !(typeof value.reqId === 'string' && CLIENT_ID.test(value.reqId)))
    out.problems.push('bad reqId');
  if (
    has('conversationId') &&
    !(typeof value.conversationId === 'string' && ENTITY_ID.test(value.conversationId))
  )
    out.problems.push('bad conversationId');
  switch (type) {
    case 'send': {
      if (has('contentType') && !CONTENT_TYPES.includes(value.contentType as string))
        out.problems.push('bad contentType');
      if (has('body')) {
        if (!isPlainObject(value.body)) out.problems.push('body is not an object');
        else {
          let size = 0;
          try {
            size = Buffer.byteLength(JSON.stringify(value.body));
          } catch {
            out.ambiguities.push('body too deep to measure');
          }
          if (size > MAX_BODY_BYTES) out.tooLarge = true;
          // docs/protocol.md allows any JSON object; a server may refuse what it cannot store (NUL, lone surrogates).
          if (unstorable(value.body)) out.ambiguities.push('body has NUL or a lone surrogate');
          if (
            value.contentType === 'text' &&
            !(typeof value.body.text === 'string' && value.body.text.length > 0)
          )
            out.problems.push('text without body.text');
        }
      }
      break;
    }
    case 'recall':
      if (has('targetSeq')) checkInt(value.targetSeq, 1, undefined, 'targetSeq', out);
      break;
    case 'receipts':
      if (has('seq')) checkInt(value.seq, 1, undefined, 'seq', out);
      break;
    case 'deliver_ack':
    case 'read':
      if (has('seq')) checkInt(value.seq, 0, undefined, 'seq', out);
      break;
    case 'sync':
      if (has('cursors')) {
        if (!isPlainObject(value.cursors)) out.problems.push('cursors is not an object');
        else
          for (const [k, v] of Object.entries(value.cursors)) {
            if (!ENTITY_ID.test(k)) out.problems.push('bad cursor id');
            checkInt(v, 0, undefined, 'cursor', out);
          }
      }
      if (has('limit')) checkInt(value.limit, 1, 200, 'limit', out);
      break;
    case 'history': {
      if (has('afterSeq') === has('beforeSeq')) out.problems.push('not exactly one of afterSeq/beforeSeq');
      if (has('afterSeq')) checkInt(value.afterSeq, 0, undefined, 'afterSeq', out);
      if (has('beforeSeq')) {
        if (value.beforeSeq === 0) out.ambiguities.push('beforeSeq 0');
        else checkInt(value.beforeSeq, 1, undefined, 'beforeSeq', out);
      }
      if (has('limit')) checkInt(value.limit, 1, 200, 'limit', out);
      break;
    }
  }
  return { ...out, type };
}

/** The answers of a frame docs/protocol.md considers valid, given membership. */
function semantic(
  value: Record<string, unknown>,
  world: World,
): { options: AnswerKind[]; silentOk: boolean } {
  const type = value.type as string;
  const conversation = value.conversationId as string | undefined;
  const refused = (id: string): AnswerKind[] =>
    world.existing.has(id) ? ['error:forbidden'] : ['error:forbidden', 'error:not_found'];
  const member = conversation !== undefined && world.own.has(conversation);
  const transient: AnswerKind[] = ['error:unavailable'];
  const limited: AnswerKind[] = ['error:rate_limited', 'error:unavailable'];
  switch (type) {
    case 'ping':
      return { options: ['pong'], silentOk: false };
    case 'send':
      return {
        options: member ? ['ack', ...limited] : [...refused(conversation!), ...limited],
        silentOk: false,
      };
    case 'recall':
      return {
        options: member
          ? ['ack', 'error:not_found', 'error:forbidden', 'error:bad_request', ...limited]
          : [...refused(conversation!), ...limited],
        silentOk: false,
      };
    case 'deliver_ack':
    case 'read':
      return member
        ? { options: transient, silentOk: true }
        : { options: [...refused(conversation!), ...transient], silentOk: false };
    case 'typing':
      return member
        ? { options: limited, silentOk: true }
        : { options: [...refused(conversation!), ...limited], silentOk: false };
    case 'sync': {
      const foreign = Object.keys(isPlainObject(value.cursors) ? value.cursors : {}).filter(
        (c) => !world.own.has(c),
      );
      return foreign.length === 0
        ? { options: ['sync_result', ...transient], silentOk: false }
        : { options: [...new Set(foreign.flatMap(refused)), ...transient], silentOk: false };
    }
    case 'history':
      return {
        options: member ? ['history_result', ...transient] : [...refused(conversation!), ...transient],
        silentOk: false,
      };
    case 'receipts':
      // not_found: a seq that names no stored message.
      return {
        options: member
          ? ['receipts_result', 'error:not_found', ...transient]
          : [...refused(conversation!), ...transient],
        silentOk: false,
      };
    default: // conversations
      return { options: ['conversations_result', ...transient], silentOk: false };
  }
}

/** The expectation for a text frame whose JSON parsed to `value`. */
export function expectationFor(value: unknown, world: World): Expectation {
  const { ids, mustCarry } = idsOf(value);
  // An optional field set to null: absent, or invalid; docs/protocol.md does not say which.
  if (isPlainObject(value) && typeof value.type === 'string' && Object.hasOwn(FIELDS, value.type)) {
    const nulls = FIELDS[value.type].optional.filter((k) => Object.hasOwn(value, k) && value[k] === null);
    if (nulls.length > 0) {
      const stripped = Object.fromEntries(Object.entries(value).filter(([k]) => !nulls.includes(k)));
      const asAbsent = expectationFor(stripped, world);
      return {
        ...asAbsent,
        options: [...new Set<AnswerKind>([...asAbsent.options, 'error:bad_request'])],
        reason: `${asAbsent.reason}; null ${nulls.join(',')}`,
      };
    }
  }
  const verdict = checkSyntax(value);
  if (verdict.problems.length > 0)
    return {
      options: verdict.tooLarge ? ['error:bad_request', 'error:too_large'] : ['error:bad_request'],
      silentOk: false,
      ids,
      mustCarry,
      reason: verdict.problems.join('; '),
    };
  if (verdict.tooLarge)
    return {
      options:
        verdict.ambiguities.length > 0 ? ['error:too_large', 'error:bad_request'] : ['error:too_large'],
      silentOk: false,
      ids,
      mustCarry,
      reason: 'body over 32 KiB',
    };
  const answers = semantic(value as Record<string, unknown>, world);
  if (verdict.ambiguities.length > 0)
    return {
      options: [...new Set<AnswerKind>([...answers.options, 'error:bad_request'])],
      silentOk: answers.silentOk,
      ids,
      mustCarry,
      reason: `valid ${verdict.type} or refused: ${verdict.ambiguities.join('; ')}`,
    };
  return { ...answers, ids, mustCarry, reason: `valid ${verdict.type}` };
}

/** For text that is not JSON, and for binary frames. */
export const notJson = (reason: string): Expectation => ({
  options: ['error:bad_request'],
  silentOk: false,
  ids: [],
  mustCarry: [],
  reason,
});

export function expectationForText(text: string, world: World): Expectation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return notJson('not JSON');
  }
  return expectationFor(value, world);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- server frames, checked field by field
type ServerFrame = Record<string, any>;

export type Classified =
  { answer: true; kind: AnswerKind; id?: string } | { answer: false; push: boolean; problem?: string };

/** Whether a server frame answers a client frame, and how; pushes and malformed frames otherwise. */
export function classify(frame: ServerFrame): Classified {
  switch (frame.type) {
    case 'ack':
      return { answer: true, kind: 'ack', id: frame.clientMsgId as string };
    case 'pong':
      return { answer: true, kind: 'pong' };
    case 'sync_result':
    case 'history_result':
    case 'conversations_result':
    case 'receipts_result':
      return { answer: true, kind: frame.type as AnswerKind, id: frame.reqId as string };
    case 'error': {
      const keys = Object.keys(frame).filter((k) => !['type', 'ref', 'code', 'message'].includes(k));
      if (
        !ERROR_CODES.includes(frame.code as ErrorCode) ||
        typeof frame.message !== 'string' ||
        keys.length > 0
      )
        return {
          answer: false,
          push: false,
          problem: `malformed error ${JSON.stringify(frame).slice(0, 200)}`,
        };
      return { answer: true, kind: `error:${frame.code as ErrorCode}`, id: frame.ref as string | undefined };
    }
    case 'message':
    case 'receipt':
    case 'typing':
    case 'welcome':
      return { answer: false, push: true };
    default:
      return { answer: false, push: false, problem: `unknown frame ${JSON.stringify(frame).slice(0, 200)}` };
  }
}

export interface Sent {
  expectation: Expectation;
  /** What was sent, shortened, for reports. */
  sample: string;
}

export interface Answer {
  kind: AnswerKind;
  id?: string;
  raw: string;
}

/**
 * Matches the answers of one connection to the frames it sent: an answer with an id to the
 * earliest unanswered frame carrying that id and admitting it; answers without id by a max-flow
 * between answer kinds and groups of frames (exact, since only kinds matter for those). Returns
 * one line per problem: an answer nothing admits, or a frame that needed an answer and got none.
 */
export function matchAnswers(sent: Sent[], answers: Answer[]): string[] {
  return match(sent, answers).problems;
}

/** How many frames that need an answer have none yet (0 once a connection's answers are all in). */
export const missingAnswers = (sent: Sent[], answers: Answer[]): number => match(sent, answers).missing;

function match(sent: Sent[], answers: Answer[]): { problems: string[]; missing: number } {
  const problems: string[] = [];
  let missing = 0;
  const answered = new Array<boolean>(sent.length).fill(false);
  const byId = new Map<string, number[]>();
  sent.forEach((s, i) => {
    for (const id of new Set(s.expectation.ids)) byId.set(id, [...(byId.get(id) ?? []), i]);
  });
  const anonymous: Answer[] = [];
  for (const answer of answers) {
    if (answer.id === undefined) {
      anonymous.push(answer);
      continue;
    }
    const candidates = byId.get(answer.id) ?? [];
    const i = candidates.find((c) => !answered[c] && sent[c].expectation.options.includes(answer.kind));
    if (i === undefined) {
      const owners = candidates.map(
        (c) =>
          `${sent[c].sample} (${sent[c].expectation.reason}; may get ${sent[c].expectation.options.join('|')})`,
      );
      problems.push(`unexpected answer ${answer.raw}${owners.length ? ` to ${owners.join(' / ')}` : ''}`);
      continue;
    }
    answered[i] = true;
  }
  // Frames still open: those with a valid id needed an answer carrying it.
  const open: number[] = [];
  sent.forEach((s, i) => {
    if (answered[i]) return;
    if (s.expectation.mustCarry.length > 0) {
      if (!s.expectation.silentOk) missing++;
      if (!s.expectation.silentOk)
        problems.push(
          `no answer carrying ${s.expectation.mustCarry[0]} to ${s.sample} (${s.expectation.reason})`,
        );
      return;
    }
    open.push(i);
  });
  const anonymousMatch = matchAnonymous(
    open.map((i) => sent[i]),
    anonymous,
  );
  problems.push(...anonymousMatch.problems);
  return { problems, missing: missing + anonymousMatch.missing };
}

/** Max-flow assignment of answers without id to open frames, required frames first. */
function matchAnonymous(open: Sent[], answers: Answer[]): { problems: string[]; missing: number } {
  const kinds = [...new Set(answers.map((a) => a.kind))];
  const groups = new Map<string, { options: AnswerKind[]; required: boolean; members: Sent[] }>();
  for (const s of open) {
    const required = !s.expectation.silentOk;
    const key = `${required}|${[...s.expectation.options].sort().join(',')}`;
    const group = groups.get(key) ?? { options: s.expectation.options, required, members: [] };
    group.members.push(s);
    groups.set(key, group);
  }
  const groupList = [...groups.values()];
  // Nodes: 0 source, 1..K kinds, K+1..K+G groups, K+G+1 sink.
  const K = kinds.length;
  const G = groupList.length;
  const sink = K + G + 1;
  const cap: number[][] = Array.from({ length: sink + 1 }, () => new Array<number>(sink + 1).fill(0));
  kinds.forEach((k, i) => {
    cap[0][1 + i] = answers.filter((a) => a.kind === k).length;
    groupList.forEach((g, j) => {
      if (g.options.includes(k)) cap[1 + i][1 + K + j] = Number.MAX_SAFE_INTEGER;
    });
  });
  const flow = (enabled: (j: number) => boolean): number => {
    groupList.forEach((g, j) => {
      if (enabled(j)) cap[1 + K + j][sink] += g.members.length;
    });
    let total = 0;
    for (;;) {
      const parent = new Array<number>(sink + 1).fill(-1);
      parent[0] = 0;
      const queue = [0];
      while (queue.length > 0 && parent[sink] === -1) {
        const u = queue.shift()!;
        for (let v = 0; v <= sink; v++)
          if (parent[v] === -1 && cap[u][v] > 0) {
            parent[v] = u;
            queue.push(v);
          }
      }
      if (parent[sink] === -1) return total;
      let push = Number.MAX_SAFE_INTEGER;
      for (let v = sink; v !== 0; v = parent[v]) push = Math.min(push, cap[parent[v]][v]);
      for (let v = sink; v !== 0; v = parent[v]) {
        cap[parent[v]][v] -= push;
        cap[v][parent[v]] += push;
      }
      total += push;
    }
  };
  const problems: string[] = [];
  let missing = 0;
  const requiredTotal = groupList.filter((g) => g.required).reduce((n, g) => n + g.members.length, 0);
  const first = flow((j) => groupList[j].required);
  if (first < requiredTotal) {
    groupList.forEach((g, j) => {
      const short = g.required ? cap[1 + K + j][sink] : 0;
      missing += short;
      if (short > 0)
        problems.push(
          `${short} frame(s) got no answer of ${g.options.join('|')}, e.g. ${g.members
            .slice(0, 3)
            .map((m) => `${m.sample} (${m.expectation.reason})`)
            .join(' / ')}`,
        );
    });
  }
  const second = flow((j) => !groupList[j].required);
  const unmatched = answers.length - first - second;
  if (unmatched > 0) {
    const left = kinds
      .map((k, i) => [k, cap[0][1 + i]] as const)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n}× ${k}`);
    problems.push(`answers without id that no frame admits: ${left.join(', ')}`);
  }
  return { problems, missing };
}
