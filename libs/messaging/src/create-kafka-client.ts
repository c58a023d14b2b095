import type { AppConfig } from '@im/config';
import type { KafkaClient } from './kafka-client';
import { KafkajsClient } from './kafkajs/kafkajs-client';
import { PlatformaticClient } from './platformatic/platformatic-client';

/** The client `KAFKA_CLIENT` names, one per process. */
export function createKafkaClient(config: AppConfig, service: string): KafkaClient {
  return config.KAFKA_CLIENT === 'kafkajs'
    ? new KafkajsClient(config, service)
    : new PlatformaticClient(config, service);
}
