/** What `withTimeout` rejects with by default. */
export class TimedOutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimedOutError';
  }
}

/**
 * Settles like `work`, or rejects with `onTimeout()` (a `TimedOutError` by default) after `ms`;
 * `work` itself goes on and is then ignored.
 */
export function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error = () => new TimedOutError(ms),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
