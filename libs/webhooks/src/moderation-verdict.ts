/** The receiver's answer to `message.before_send`. */
export type ModerationVerdict =
  | { action: 'allow' }
  | { action: 'reject'; reason: string }
  | { action: 'replace'; body: Record<string, unknown> };

const REASON_MAX = 500;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the answer's JSON; undefined when it is not one of the three verdicts, which counts
 * as a failed call (WEBHOOK_FAIL_OPEN decides) rather than as a guess at what was meant.
 */
export function parseVerdict(text: string): ModerationVerdict | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(answer)) return undefined;
  switch (answer.action) {
    case 'allow':
      return { action: 'allow' };
    case 'reject': {
      const reason =
        typeof answer.reason === 'string' && answer.reason.trim() ? answer.reason : 'rejected by moderation';
      return { action: 'reject', reason: reason.slice(0, REASON_MAX) };
    }
    case 'replace':
      return isObject(answer.body) ? { action: 'replace', body: answer.body } : undefined;
    default:
      return undefined;
  }
}
