import type { AppConfig } from '@im/config';

/** What every @platformatic/kafka client of a process shares: its id and the brokers. */
export interface PlatformaticConnection {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  timeout: number;
}

export const platformaticConnection = (config: AppConfig, service: string): PlatformaticConnection => ({
  clientId: `${service}-${config.INSTANCE_ID}`,
  bootstrapBrokers: config.KAFKA_BROKERS.split(','),
  connectTimeout: 3000,
  timeout: 30_000,
});

/** Retry steps of 200 ms doubling to at most 1 s: requests go through within a second of the broker answering again. */
export const retryDelay = (_client: unknown, _operation: string, attempt: number) =>
  Math.min(1000, 200 * 2 ** Math.max(0, attempt - 1));
