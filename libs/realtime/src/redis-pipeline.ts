import type { ChainableCommander } from 'ioredis';

/**
 * Runs a pipeline (or MULTI) and returns its replies, throwing the first command's error.
 * ioredis resolves `exec()` even when its commands failed (each reply is `[error, value]`, and
 * while Redis restarts every one carries MaxRetriesPerRequestError), so reading the values
 * alone takes an outage for empty data.
 */
export async function execAll(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  return replies.map(([, value]) => value);
}
