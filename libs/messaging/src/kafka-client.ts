import { Kafka, logLevel, LogEntry } from 'kafkajs';
import { Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { TopicName } from './events';

export const topicFor = (config: AppConfig, topic: TopicName) => `${config.KAFKA_TOPIC_PREFIX}.${topic}`;
export const groupFor = (config: AppConfig, service: string) => `${config.KAFKA_TOPIC_PREFIX}.${service}`;

const levels: Record<number, 'error' | 'warn' | 'log' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'log',
  [logLevel.DEBUG]: 'debug',
};

/** One kafkajs client per process, logging through Nest's logger. */
export function createKafka(config: AppConfig, service: string): Kafka {
  const logger = new Logger('kafkajs');
  return new Kafka({
    clientId: `${service}-${config.INSTANCE_ID}`,
    brokers: config.KAFKA_BROKERS.split(','),
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // Keep trying for about a minute: a broker restart must not kill the service. Steps of at
    // most 1 s, so requests go through within a second of the broker answering again.
    retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 60 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        // The coordinator-loading noise of a fresh broker is retried by kafkajs itself.
        if (
          level === logLevel.ERROR &&
          /coordinator (is loading|is not available)/i.test(String(extra.error))
        )
          return;
        logger[levels[level] ?? 'log'](`${message} ${JSON.stringify(extra)}`);
      },
  });
}
