export {
  IdempotencyGuard,
  idempotencyKey,
  IDEMPOTENCY_TTL_SECONDS,
  decodeAssignment,
} from './idempotency-guard';
export type { Assignment } from './idempotency-guard';
