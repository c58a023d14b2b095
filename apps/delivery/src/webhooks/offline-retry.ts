/**
 * The wait before retry `attempt` (1 for the first retry) of a message.offline delivery:
 * doubling from `initialMs` up to `maxMs`, each wait drawn from its upper half so that many
 * deliveries failing together do not all come back at the same instant.
 */
export function offlineRetryDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** X-IM-Delivery of a message's notice: derived from the message, so a replay after a crash sends the same one. */
export const offlineDeliveryId = (messageId: string) => `offline-${messageId}`;
