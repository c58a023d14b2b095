import { DatabaseError } from 'pg';
import { DataSource, QueryFailedError, QueryRunner, ReplicationMode } from 'typeorm';

/** PostgreSQL could not be reached at all: no connection was had for the statement. */
export class DatabaseUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`PostgreSQL unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * SQLSTATEs that describe the server's state, not the statement: connection exceptions (08),
 * insufficient resources (53), operator intervention such as a shutdown or a cancelled
 * statement (57), system errors (58), and the conflicts a retry resolves (40001, 40P01, 55P03).
 */
const OUTAGE_CLASSES = new Set(['08', '53', '57', '58']);
const RETRYABLE_STATES = new Set(['40001', '40P01', '55P03']);

const isOutageState = (code: string | undefined) =>
  code !== undefined && (OUTAGE_CLASSES.has(code.slice(0, 2)) || RETRYABLE_STATES.has(code));

/**
 * Whether a failed database call may pass when retried. A statement that PostgreSQL refused
 * for what it is (a constraint, bad data, a syntax error) is not an outage; a statement that
 * died with its connection (pg then reports a plain error, not a DatabaseError) is.
 */
export function isDatabaseOutage(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (error instanceof QueryFailedError) {
    const driverError: unknown = error.driverError;
    if (driverError instanceof DatabaseError) return isOutageState(driverError.code);
    // A parameter pg could not serialize is our bug, not the connection's.
    return !(driverError instanceof TypeError || driverError instanceof RangeError);
  }
  if (error instanceof DatabaseError) return isOutageState(error.code);
  return false;
}

/**
 * A DataSource whose connection failures are typed: pg reports a refused connection, a pool
 * that timed out waiting or a server still starting in several shapes, and all of them mean
 * the same to a caller.
 */
export class OutageAwareDataSource extends DataSource {
  override createQueryRunner(mode: ReplicationMode = 'master'): QueryRunner {
    const runner = super.createQueryRunner(mode);
    const connect = runner.connect.bind(runner);
    runner.connect = () =>
      connect().catch((error: unknown) => {
        throw new DatabaseUnavailableError(error);
      });
    return runner;
  }
}
