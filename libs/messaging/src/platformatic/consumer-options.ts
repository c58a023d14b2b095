import { type ConsumerOptions, GroupProtocols, stringDeserializers } from '@platformatic/kafka';
import type { AppConfig } from '@im/config';
import { groupFor } from '../kafka-client';
import { type PlatformaticConnection, retryDelay } from './platformatic-connection';

/** The library's consumer settings for one service's consumer of one topic. */
export function consumerOptions(
  connection: PlatformaticConnection,
  config: AppConfig,
  service: string,
  topic: string,
): ConsumerOptions<string, string, string, string> {
  return {
    ...connection,
    clientId: `${connection.clientId}-${topic}`,
    deserializers: stringDeserializers,
    maxWaitTime: config.KAFKA_FETCH_MAX_WAIT_MS,
    retries: 60,
    retryDelay,
    groupId: groupFor(config, `${service}.${topic}`),
    groupInstanceId: config.KAFKA_STATIC_MEMBERSHIP === '1' ? config.INSTANCE_ID : undefined,
    rebalanceTimeout: 20_000,
    // Used by the classic protocol; with KIP-848 the broker's group.consumer.* settings rule.
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatInterval: 1000,
    groupProtocol:
      config.KAFKA_GROUP_PROTOCOL === 'consumer' ? GroupProtocols.CONSUMER : GroupProtocols.CLASSIC,
  };
}
