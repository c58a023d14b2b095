import { DatabaseError } from 'pg';
import { DataSource, QueryFailedError, TypeORMError, type QueryRunner, type ReplicationMode } from 'typeorm';
import { DatabaseUnavailableError, isDatabaseOutage, OutageAwareDataSource } from './database-outage';

const pgError = (code: string | undefined) =>
  Object.assign(new DatabaseError('server said no', 0, 'error'), { code });
const failedQuery = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

/**
 * Whether a failed database call may pass when retried. (apps/gateway's failure-code.spec
 * covers a few common cases through failureCode; these are the rules behind them.)
 */
describe('isDatabaseOutage', () => {
  it.each([
    ['08006', 'connection failure'],
    ['08001', 'unable to establish a connection'],
    ['53300', 'too many connections'],
    ['57P01', 'admin shutdown'],
    ['57014', 'statement cancelled'],
    ['58030', 'I/O error'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['55P03', 'lock not available'],
  ])('takes SQLSTATE %s (%s) for an outage, bare or in a failed query', (code) => {
    expect(isDatabaseOutage(pgError(code))).toBe(true);
    expect(isDatabaseOutage(failedQuery(pgError(code)))).toBe(true);
  });

  it.each<[string | undefined, string]>([
    ['23505', 'unique violation'],
    ['42601', 'syntax error'],
    ['22P02', 'invalid text representation'],
    ['40002', 'integrity constraint violation (class 40, not a conflict a retry resolves)'],
    ['55000', 'object not in prerequisite state (class 55, not a lock)'],
    [undefined, 'no code at all'],
  ])('takes SQLSTATE %s (%s) for no outage, bare or in a failed query', (code) => {
    expect(isDatabaseOutage(pgError(code))).toBe(false);
    expect(isDatabaseOutage(failedQuery(pgError(code)))).toBe(false);
  });

  it('takes a statement that died with its connection for an outage, but not a parameter pg could not serialize', () => {
    expect(isDatabaseOutage(failedQuery(new Error('Connection terminated unexpectedly')))).toBe(true);
    expect(isDatabaseOutage(failedQuery(new TypeError('Do not know how to serialize a BigInt')))).toBe(false);
    expect(isDatabaseOutage(failedQuery(new RangeError('Maximum call stack size exceeded')))).toBe(false);
  });

  it('takes an unreachable PostgreSQL for an outage, and nothing else', () => {
    const unavailable = new DatabaseUnavailableError('ECONNREFUSED');
    expect(unavailable.message).toBe('PostgreSQL unavailable: ECONNREFUSED');
    expect(isDatabaseOutage(unavailable)).toBe(true);
    expect(isDatabaseOutage(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isDatabaseOutage(new TypeORMError('Driver not Connected'))).toBe(false);
    expect(isDatabaseOutage(undefined)).toBe(false);
  });
});

/** The data source types a failed connect; the runner comes from a faked DataSource.createQueryRunner. */
describe('OutageAwareDataSource', () => {
  afterEach(() => jest.restoreAllMocks());

  function withRunner(connect: () => Promise<unknown>) {
    const modes: ReplicationMode[] = [];
    jest.spyOn(DataSource.prototype, 'createQueryRunner').mockImplementation((mode?: ReplicationMode) => {
      modes.push(mode ?? 'master');
      return { connect } as unknown as QueryRunner;
    });
    return { db: new OutageAwareDataSource({ type: 'postgres' }), modes };
  }

  it('turns a failed connect into DatabaseUnavailableError with the cause kept', async () => {
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const { db } = withRunner(() => Promise.reject(refused));
    const error: unknown = await db
      .createQueryRunner()
      .connect()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as DatabaseUnavailableError).cause).toBe(refused);
    expect((error as DatabaseUnavailableError).message).toBe(
      'PostgreSQL unavailable: connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(isDatabaseOutage(error)).toBe(true);
  });

  it('leaves a successful connect as it is and asks for the replication mode it was given', async () => {
    const connection = { id: 'pg-client' };
    const { db, modes } = withRunner(() => Promise.resolve(connection));
    await expect(db.createQueryRunner('slave').connect()).resolves.toBe(connection);
    db.createQueryRunner();
    expect(modes).toEqual(['slave', 'master']);
  });
});
