/**
 * Runs `attempt` until it succeeds, waiting 0.5 s more after each failure (at most 5 s), and
 * gives up with the last error once `deadline` has passed. `recover` runs after each failure
 * (a client to replace, a warning to log). At start-up the broker may be restarting, or the
 * topics just created by another service and without a leader yet.
 */
export async function retryUntil<T>(
  deadline: number,
  attempt: () => Promise<T>,
  recover: (error: unknown, attempt: number) => Promise<void> | void,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await recover(error, n);
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * n)));
    }
  }
}
