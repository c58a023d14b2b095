import { metrics } from '@im/metrics';

export const consumerLag = metrics.gauge(
  'im_kafka_consumer_lag',
  'Messages behind the end of the partition after the last batch',
);
