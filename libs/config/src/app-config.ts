import 'reflect-metadata';
import { hostname } from 'node:os';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidateIf,
} from 'class-validator';
import { CLUSTER_NODES_PATTERN, parseClusterNodes, RedisTarget, RedisTargetError } from './redis-target';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);
/** 'true'/'1' and 'false'/'0' (any case) become booleans; anything else stays to fail validation. */
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : value;
};

/**
 * Every setting of every service. Only this module reads process.env; the rest of the code
 * receives a validated, typed AppConfig.
 */
export class AppConfig {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  /** Identifies this process among replicas: gateway routing and Kafka client ids use it. */
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/)
  INSTANCE_ID: string = `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  GATEWAY_PORT = 3000;
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  SEQUENCER_PORT = 3001;
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  STORAGE_PORT = 3002;
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  DELIVERY_PORT = 3003;

  /** Secrets have no default: `npm start` generates development values and prints them. */
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be set (at least 16 characters)' })
  ADMIN_TOKEN: string;

  @IsIn(['HS256', 'RS256', 'ES256'])
  JWT_ALGORITHM: 'HS256' | 'RS256' | 'ES256' = 'HS256';
  @ValidateIf((c: AppConfig) => c.JWT_ALGORITHM === 'HS256')
  @IsString()
  @MinLength(16, { message: 'JWT_SECRET must be set (at least 16 characters) for HS256' })
  JWT_SECRET?: string;
  /** PEM public key for RS256/ES256 verification. */
  @ValidateIf((c: AppConfig) => c.JWT_ALGORITHM !== 'HS256')
  @IsString({ message: 'JWT_PUBLIC_KEY must be set for RS256/ES256' })
  JWT_PUBLIC_KEY?: string;
  /** PEM private key for RS256/ES256, only needed to issue tokens from the admin API. */
  @IsOptional()
  @IsString()
  JWT_PRIVATE_KEY?: string;
  @IsString()
  @MinLength(1)
  JWT_AUDIENCE = 'im';
  /** Required `iss` of user tokens; unset (the default) checks no issuer (docs/protocol.md §2). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  JWT_ISSUER?: string;
  @Transform(toInt)
  @IsInt()
  @Min(60)
  JWT_DEFAULT_TTL_SECONDS = 86400;

  @Matches(/^[^,\s]+(,[^,\s]+)*$/)
  KAFKA_BROKERS = '127.0.0.1:9092';
  /** Prefix of every topic and consumer group, so several stacks can share a broker. */
  @Matches(/^[A-Za-z0-9_.-]{1,40}$/)
  KAFKA_TOPIC_PREFIX = 'im';
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1024)
  KAFKA_PARTITIONS = 6;
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(7)
  KAFKA_REPLICATION_FACTOR = 1;
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(7)
  KAFKA_MIN_INSYNC_REPLICAS = 1;
  /**
   * How long the broker waits for a consumer instance's heartbeat before it gives that
   * instance's partitions to the others: the stall a crashed (kill -9) instance causes. 6 s is
   * the broker's default minimum (group.min.session.timeout.ms).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(300_000)
  KAFKA_SESSION_TIMEOUT_MS = 6000;

  /**
   * The Kafka client library (issue 14, libs/messaging/README.md). Both partition keys the
   * same way (murmur2), so instances on either can share topics during an upgrade.
   */
  @IsIn(['kafkajs', 'platformatic'])
  KAFKA_CLIENT: 'kafkajs' | 'platformatic' = 'platformatic';
  /**
   * With @platformatic/kafka: `consumer` is Kafka 4's group protocol (KIP-848), where only the
   * partitions that move pause and the broker holds the session timeout
   * (group.consumer.session.timeout.ms); `classic` is the JoinGroup protocol, every member
   * stopping at each rebalance, with KAFKA_SESSION_TIMEOUT_MS.
   */
  @IsIn(['consumer', 'classic'])
  KAFKA_GROUP_PROTOCOL: 'consumer' | 'classic' = 'consumer';
  /**
   * With @platformatic/kafka: '1' joins each group as a static member named after INSTANCE_ID.
   * Off by default: in a KIP-848 group a crashed static member keeps its name until its session
   * expires, so its restart is refused (UNRELEASED_INSTANCE_ID) and gains nothing
   * (libs/messaging/README.md).
   */
  @IsIn(['0', '1'])
  KAFKA_STATIC_MEMBERSHIP: '0' | '1' = '0';

  /**
   * How long the broker may hold a consumer's fetch when it has nothing new. A record that
   * arrives ends the wait at once, so this sets the idle cost (fetches per second), not latency.
   */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(10_000)
  KAFKA_FETCH_MAX_WAIT_MS = 500;

  /**
   * How long a producer holds a record that finds nothing queued before it, so that records
   * arriving close together share one request (and every hop after it one batch). 0 sends at
   * the next turn of the event loop.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  KAFKA_LINGER_MS = 0;

  @Matches(/^postgres(ql)?:\/\//)
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/im';
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;
  @Matches(/^rediss?:\/\//)
  REDIS_URL = 'redis://127.0.0.1:6379';
  /**
   * Seed nodes of a Redis Cluster (`host:port` or `redis[s]://[user:password@]host:port`,
   * comma-separated). When set, the services use the cluster and REDIS_URL is not read.
   */
  @IsOptional()
  @Matches(CLUSTER_NODES_PATTERN, {
    message:
      'REDIS_CLUSTER_NODES must be host:port or redis[s]://[user:password@]host:port entries, comma-separated',
  })
  REDIS_CLUSTER_NODES?: string;
  /**
   * Prefix of every Redis key and pub/sub channel, so several deployments can share one Redis
   * without reading each other's state; by default `<KAFKA_TOPIC_PREFIX>:` (see redisKeyPrefix).
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/)
  REDIS_KEY_PREFIX?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  MAX_FRAME_BYTES = 64 * 1024;
  @Transform(toInt)
  @IsInt()
  @Min(256)
  @Max(1024 * 1024)
  MAX_BODY_BYTES = 32 * 1024;
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600000)
  HEARTBEAT_MS = 25000;
  /** Browser origins allowed to open WebSockets (comma-separated); empty allows any. */
  @Matches(/^$|^[^,\s]+(,[^,\s]+)*$/)
  ALLOWED_ORIGINS = '';
  /** Live connections one user may hold across all gateways. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_CONNECTIONS_PER_USER = 20;
  /** Messages (send, recall, typing) one connection may send per second; twice that as a burst. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_CONNECTION_PER_SEC = 50;
  /** Messages one user may send per second across all connections and gateways (Redis). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_USER_PER_SEC = 100;
  /** Refused messages within 10 s after which the connection is closed with 4429. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_CLOSE_AFTER = 200;

  /** Broadcast messages per second per job, so that live traffic keeps its latency. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  BROADCAST_RATE_PER_SEC = 200;

  /** Recall allowed this long after sending. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RECALL_WINDOW_SECONDS = 86400;
  /** Edit allowed this long after sending. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  EDIT_WINDOW_SECONDS = 86400;
  /**
   * Messages older than this many days are deleted by storage's sweep (docs/protocol.md §5.7);
   * unset keeps them forever. A fraction is accepted (toInt is Number()) so tests can keep
   * seconds; a conversation's own retentionDays wins over it.
   */
  @IsOptional()
  @Transform(toInt)
  @Min(Number.MIN_VALUE, { message: 'RETENTION_DAYS must be a number of days above 0' })
  @Max(36500)
  RETENTION_DAYS?: number;
  /** Pause between two sweeps; unset: a tenth of RETENTION_DAYS within 1 s … 1 h (apps/storage/src/retention). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  RETENTION_SWEEP_INTERVAL_MS?: number;
  /** Messages one sweep statement deletes at most: each is its own short transaction. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  RETENTION_BATCH_SIZE = 1000;
  /** Pause between two sweep statements, so that the sweep never holds PostgreSQL for long. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  RETENTION_BATCH_PAUSE_MS = 50;
  /** First re-push of an unacknowledged message after this long; doubles up to REPUSH_MAX_MS. */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  REPUSH_INITIAL_MS = 2000;
  @Transform(toInt)
  @IsInt()
  @Min(50)
  REPUSH_MAX_MS = 30000;
  /**
   * How often delivery looks for online devices whose stored delivered cursor is behind a
   * recently active conversation (pushes lost with Redis state, say) and pushes what they miss.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  CATCH_UP_INTERVAL_MS = 2000;
  /** Conversations with a message in this many seconds are checked by the catch-up. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  CATCH_UP_WINDOW_SECONDS = 600;
  /** How long the admin API waits for a system message to become durable. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  ADMIN_ACK_TIMEOUT_MS = 15000;
  /** Seqs reserved in PostgreSQL per block by the sequencer (see apps/sequencer/README.md). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  SEQ_BLOCK_SIZE = 100;

  /** Where webhook events are POSTed (docs/protocol.md §5.8); unset: no webhooks. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'WEBHOOK_URL must be an http(s) URL' })
  WEBHOOK_URL?: string;
  /** HMAC-SHA256 key of X-IM-Signature; required once WEBHOOK_URL is set, never defaulted. */
  @ValidateIf((c: AppConfig) => c.WEBHOOK_URL !== undefined)
  @IsString()
  @MinLength(16, { message: 'WEBHOOK_SECRET must be set (at least 16 characters) with WEBHOOK_URL' })
  WEBHOOK_SECRET?: string;
  /** Ask the receiver about every new send before it is accepted (message.before_send). */
  @Transform(toBool)
  @IsBoolean({ message: 'WEBHOOK_BEFORE_SEND must be true or false' })
  WEBHOOK_BEFORE_SEND = false;
  /** A before_send call unanswered after this long counts as failed (then WEBHOOK_FAIL_OPEN). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(5000)
  WEBHOOK_TIMEOUT_MS = 1000;
  /** When before_send fails: true lets the message through, false refuses it `unavailable`. */
  @Transform(toBool)
  @IsBoolean({ message: 'WEBHOOK_FAIL_OPEN must be true or false' })
  WEBHOOK_FAIL_OPEN = true;
  /** A message.offline call unanswered after this long is retried (the receiver may call a push service). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(120_000)
  WEBHOOK_OFFLINE_TIMEOUT_MS = 5000;
  /** First retry of an undelivered message.offline after this long; doubles up to the max. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_RETRY_INITIAL_MS = 500;
  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_RETRY_MAX_MS = 10_000;
  /** message.offline POSTs in flight at once per partition of the queue. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  WEBHOOK_CONCURRENCY = 16;

  /**
   * OpenTelemetry traces, off unless one of these is set: the collector's OTLP/HTTP base URL
   * (spans go to <url>/v1/traces), or the traces URL itself. JSON bodies (README, Tracing).
   */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL' })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL' })
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  /** `service.name` of the spans; by default im-<service> (im-gateway, im-sequencer, …). */
  @IsOptional()
  @Matches(/^\S{1,100}$/)
  OTEL_SERVICE_NAME?: string;
  /** Share of new traces kept (0–1); a kept trace is kept by every service it crosses. */
  @Transform(toInt)
  @Min(0, { message: 'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1' })
  @Max(1, { message: 'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1' })
  OTEL_TRACES_SAMPLER_ARG = 1;

  /** For supervised local runs: stop (as on SIGTERM) when the parent closes our stdin. */
  @IsIn(['0', '1'])
  STOP_ON_STDIN_CLOSE: '0' | '1' = '0';

  /** `json` (one object per line) or `text`; JSON by default in production. */
  @IsOptional()
  @IsIn(['json', 'text'])
  LOG_FORMAT?: 'json' | 'text';

  @IsIn(['error', 'warn', 'log', 'debug'])
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' = 'log';
}

/** The Redis namespace of this deployment: REDIS_KEY_PREFIX, or the Kafka prefix and a colon. */
export const redisKeyPrefix = (config: AppConfig): string =>
  config.REDIS_KEY_PREFIX ?? `${config.KAFKA_TOPIC_PREFIX}:`;

/** The Redis this deployment uses: the cluster when REDIS_CLUSTER_NODES is set, else REDIS_URL. */
export const redisTarget = (config: AppConfig): RedisTarget =>
  config.REDIS_CLUSTER_NODES !== undefined
    ? parseClusterNodes(config.REDIS_CLUSTER_NODES)
    : { kind: 'single', url: config.REDIS_URL };

export class ConfigError extends Error {}

/** Reads and validates configuration; throws a ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(new AppConfig());
  const picked: Record<string, string> = {};
  for (const key of [...known, 'ADMIN_TOKEN', 'JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_PRIVATE_KEY']) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const config = plainToInstance(AppConfig, picked, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.flatMap((e) =>
      Object.values(e.constraints ?? {}).map((m) => `  ${e.property}: ${m.startsWith(e.property) ? m : m}`),
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  try {
    redisTarget(config);
  } catch (error) {
    if (error instanceof RedisTargetError)
      throw new ConfigError(`Invalid configuration:\n  ${error.message}`);
    throw error;
  }
  return config;
}
