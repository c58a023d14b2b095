import type { ConsumerConfig } from 'kafkajs';
import type { AppConfig } from '@im/config';
import type { TopicName } from '../events';
import { groupFor } from '../kafka-client';

/** kafkajs's consumer settings for one service's consumer of one topic. */
export function kafkajsConsumerConfig(config: AppConfig, service: string, topic: TopicName): ConsumerConfig {
  return {
    groupId: groupFor(config, `${service}.${topic}`),
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatInterval: 1000,
    rebalanceTimeout: 20000,
    maxWaitTimeInMs: config.KAFKA_FETCH_MAX_WAIT_MS,
    allowAutoTopicCreation: false,
    // Short steps: after a broker restart the group rejoins within a second of it answering.
    retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 60 },
  };
}
