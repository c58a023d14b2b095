import type { E2eRun } from './global-setup';
import { dropRun } from './own-stack';

/** Stops the services, then removes the run's topics and database so runs do not pile up. */
export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as { __E2E__?: E2eRun }).__E2E__;
  if (!run) return;
  await run.stack.stop();
  await dropRun(run.topicPrefix, run.databaseUrl);
}
