export { IdempotencyGuard, Assignment, idempotencyKey, IDEMPOTENCY_TTL_SECONDS, decodeAssignment } from './idempotency-guard';
