import { loadConfig } from './app-config';

const secrets = { ADMIN_TOKEN: 'a'.repeat(32), JWT_SECRET: 'b'.repeat(32) };

describe('retention settings', () => {
  it('keep messages forever unless RETENTION_DAYS is set', () => {
    const config = loadConfig({ ...secrets });
    expect(config.RETENTION_DAYS).toBeUndefined();
    expect(config.RETENTION_SWEEP_INTERVAL_MS).toBeUndefined();
    expect(config.RETENTION_BATCH_SIZE).toBe(1000);
    expect(config.RETENTION_BATCH_PAUSE_MS).toBe(50);
  });

  it('take whole and fractional days', () => {
    expect(loadConfig({ ...secrets, RETENTION_DAYS: '30' }).RETENTION_DAYS).toBe(30);
    expect(loadConfig({ ...secrets, RETENTION_DAYS: '0.0001' }).RETENTION_DAYS).toBe(0.0001);
  });

  it('refuse a retention of zero, below zero, beyond 36500 days or not a number', () => {
    for (const value of ['0', '-1', '36501', 'abc', 'Infinity'])
      expect(() => loadConfig({ ...secrets, RETENTION_DAYS: value })).toThrow(/RETENTION_DAYS/);
  });

  it('take a sweep interval of 1 s to 1 day in whole milliseconds', () => {
    expect(loadConfig({ ...secrets, RETENTION_SWEEP_INTERVAL_MS: '5000' }).RETENTION_SWEEP_INTERVAL_MS).toBe(
      5000,
    );
    for (const value of ['999', '1.5', '86400001'])
      expect(() => loadConfig({ ...secrets, RETENTION_SWEEP_INTERVAL_MS: value })).toThrow(
        /RETENTION_SWEEP_INTERVAL_MS/,
      );
  });
});
