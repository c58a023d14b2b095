export {
  IdempotencyGuard,
  idempotencyKey,
  highWaterKey,
  IDEMPOTENCY_TTL_SECONDS,
  HIGH_WATER_TTL_SECONDS,
  decodeAssignment,
} from './idempotency-guard';
export type { Assignment, ConversationClaim, ClaimResult } from './idempotency-guard';
export { IdempotencyModule } from './idempotency.module';
