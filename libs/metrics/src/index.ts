export { metrics, stageLatency, Histogram, LATENCY_BUCKETS } from './metrics';
