import type { LocalStack } from '../../docker/local/stack';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as { __E2E_STACK__?: LocalStack }).__E2E_STACK__;
  await stack?.stop();
}
