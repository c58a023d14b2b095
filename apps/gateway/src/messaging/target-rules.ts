import { checkBody, isControlContentType, ProtocolError } from '@im/protocol';

/** What the rules need to know of the message a recall, edit or reaction names. */
export interface TargetFacts {
  content_type: string;
  sender_id: string;
  sent_at: Date;
  recalled: boolean;
}

export interface RuleContext {
  conversationId: string;
  targetSeq: number;
  senderId: string;
  now: number;
}

const missing = (c: RuleContext) =>
  new ProtocolError('not_found', `no message ${c.targetSeq} in ${c.conversationId}`);

/** A recall: of the sender's own message within the window; an admin may recall any message that says something. */
export function recallRefusal(
  target: TargetFacts | null,
  c: RuleContext,
  rules: { admin: boolean; windowSeconds: number },
): ProtocolError | undefined {
  if (!target) return missing(c);
  if (isControlContentType(target.content_type))
    return new ProtocolError('bad_request', 'a recall, an edit or a reaction cannot be recalled');
  if (rules.admin) return undefined;
  if (target.sender_id !== c.senderId)
    return new ProtocolError('forbidden', 'only the sender can recall a message');
  if (c.now - target.sent_at.getTime() > rules.windowSeconds * 1000)
    return new ProtocolError('forbidden', `recall is possible within ${rules.windowSeconds} s of sending`);
  return undefined;
}

/** Edits and reactions act on a stored message that says something and was not recalled. */
function actionableRefusal(
  target: TargetFacts | null,
  c: RuleContext,
  what: string,
): ProtocolError | undefined {
  if (!target) return missing(c);
  if (isControlContentType(target.content_type))
    return new ProtocolError('bad_request', `a recall, an edit or a reaction cannot be ${what}`);
  if (target.recalled) return new ProtocolError('bad_request', `a recalled message cannot be ${what}`);
  return undefined;
}

/** An edit: by the target's sender, within the window, with a body its content type allows. */
export function editRefusal(
  target: TargetFacts | null,
  c: RuleContext,
  edit: { body: Record<string, unknown>; windowSeconds: number; maxBodyBytes: number },
): ProtocolError | undefined {
  const refusal = actionableRefusal(target, c, 'edited');
  if (refusal || !target) return refusal;
  if (target.sender_id !== c.senderId)
    return new ProtocolError('forbidden', 'only the sender can edit a message');
  if (c.now - target.sent_at.getTime() > edit.windowSeconds * 1000)
    return new ProtocolError('forbidden', `editing is possible within ${edit.windowSeconds} s of sending`);
  return checkBody(edit.body, target.content_type, edit.maxBodyBytes);
}

/** A reaction: any member, to any message that says something and was not recalled. */
export function reactionRefusal(target: TargetFacts | null, c: RuleContext): ProtocolError | undefined {
  return actionableRefusal(target, c, 'reacted to');
}

/** Mentions name members only. */
export function mentionsRefusal(
  mentions: readonly string[],
  members: readonly string[],
): ProtocolError | undefined {
  const strangers = mentions.filter((u) => !members.includes(u));
  return strangers.length > 0
    ? new ProtocolError('bad_request', `mentions must name members; not members: ${strangers.join(', ')}`)
    : undefined;
}
