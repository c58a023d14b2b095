import type { RedisClient } from '@im/realtime';
import { IdempotencyGuard } from '@im/idempotency';
import type { BatchProducer, InboundMessage, TopicEvents, TopicName } from '@im/messaging';
import {
  GatewayBus,
  type GatewayEnvelope,
  MembershipMemo,
  MembershipService,
  PresenceStore,
} from '@im/realtime';
import { DeviceRouter } from '../../../apps/delivery/src/fan-out/device-router';
import { FanOutUseCase } from '../../../apps/delivery/src/fan-out/fan-out.usecase';
import { PendingPushes } from '../../../apps/delivery/src/repush/pending-pushes';
import { AckWaiters } from '../../../apps/gateway/src/connections/ack-waiters';
import { deliverEnvelope } from '../../../apps/gateway/src/connections/deliver-envelope';
import { LocalConnections } from '../../../apps/gateway/src/connections/local-connections';
import { AcceptMessageUseCase } from '../../../apps/gateway/src/messaging/accept-message.usecase';
import { SeqBlockRepository } from '../../../apps/sequencer/src/sequencing/seq-block.repository';
import { SequenceBatchUseCase } from '../../../apps/sequencer/src/sequencing/sequence-batch.usecase';
import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { PersistBatchUseCase } from '../../../apps/storage/src/persistence/persist-batch.usecase';
import { CapturingProducer } from './capturing-producer';
import type { MediumContext } from './medium-context';

/**
 * The admin API's path through the pipeline, in one process over the real PostgreSQL and
 * Redis: the gateway's AcceptMessageUseCase publishes to `inbound`; what it publishes is run,
 * one batch at a time and in order as one partition's consumers would, through the
 * sequencer's, storage's and delivery's use cases (a capturing producer between them); and
 * this gateway's bus channel is handled as the gateway handles it (`deliverEnvelope` answers
 * the AckWaiters of admin calls). Never a claim about Kafka.
 */
export class AdminPipeline {
  readonly waiters = new AckWaiters();
  readonly accept: AcceptMessageUseCase;
  readonly presence: PresenceStore;
  /** Every envelope this gateway's channel received, in order. */
  readonly envelopes: GatewayEnvelope[] = [];
  /** Every inbound message Kafka accepted from the gateway, in order. */
  readonly published: InboundMessage[] = [];
  /** Errors of the hops, which a consumer would retry; a spec expects none. */
  readonly errors: unknown[] = [];
  /**
   * What becomes of the gateway's next inbound publishes: run through the hops ('deliver'),
   * refused by Kafka ('fail'), or accepted and left unconsumed until `release()` ('hold', a
   * stalled partition).
   */
  inbound: 'deliver' | 'fail' | 'hold' = 'deliver';
  private held: InboundMessage[] = [];
  private readonly hops = new CapturingProducer();
  private readonly sequence: SequenceBatchUseCase;
  private readonly persist: PersistBatchUseCase;
  private readonly fanOut: FanOutUseCase;
  private queue: InboundMessage[] = [];
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  private constructor(
    private readonly ctx: MediumContext,
    private readonly subscriber: RedisClient,
  ) {
    const membership = new MembershipService(
      ctx.redis,
      ctx.conversations,
      new MembershipMemo({ maxConversations: 100, ttlMs: 60_000 }),
    );
    this.presence = new PresenceStore(ctx.redis);
    this.sequence = new SequenceBatchUseCase(
      new IdempotencyGuard(ctx.redis),
      new SeqBlockRepository(ctx.db),
      this.hops.asProducer(),
      ctx.config,
    );
    this.persist = new PersistBatchUseCase(new MessageStoreRepository(ctx.db), this.hops.asProducer());
    this.fanOut = new FanOutUseCase(
      membership,
      new DeviceRouter(this.presence, new GatewayBus(ctx.redis)),
      new PendingPushes(),
      ctx.config,
      this.hops.asProducer(),
    );
    this.accept = new AcceptMessageUseCase(
      membership,
      ctx.messages,
      ctx.conversations,
      this.gatewayProducer(),
      ctx.config,
    );
  }

  /** The pipeline, listening on the bus channel of the gateway `ctx.config.INSTANCE_ID`. */
  static async start(ctx: MediumContext): Promise<AdminPipeline> {
    const pipeline = new AdminPipeline(ctx, ctx.newRedis());
    const connections = new LocalConnections();
    await GatewayBus.subscribe(pipeline.subscriber, ctx.config.INSTANCE_ID, (e) => {
      pipeline.envelopes.push(e);
      deliverEnvelope(e, connections, pipeline.waiters);
    });
    return pipeline;
  }

  /** A device of `userId` connected to this gateway (its pushes land in `envelopes`). */
  online(userId: string, deviceId: string): Promise<unknown> {
    return this.presence.register(userId, deviceId, {
      gatewayId: this.ctx.config.INSTANCE_ID,
      connId: `${userId}-${deviceId}`,
      connectedAt: Date.now(),
    });
  }

  /** The held messages go through the hops now, before anything published later. */
  release(): void {
    this.queue.push(...this.held.splice(0));
    void this.drain();
  }

  /** Resolves once every inbound message published so far went through the hops and its envelopes arrived. */
  async idle(): Promise<void> {
    if (this.draining) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    // Redis answers the subscriber's PING after every message published to it before.
    await this.subscriber.ping();
  }

  /** The frames pushed to a device (`to_devices`), in order. */
  framesTo(userId: string, deviceId: string) {
    return this.envelopes.flatMap((e) =>
      e.kind === 'to_devices' && e.devices.some(([u, d]) => u === userId && d === deviceId) ? [e.frame] : [],
    );
  }

  private gatewayProducer(): BatchProducer {
    const producer = {
      publish: <T extends TopicName>(topic: T, _key: string, event: TopicEvents[T]): Promise<void> => {
        if (topic !== 'inbound') return Promise.reject(new Error(`the gateway publishes no ${topic}`));
        if (this.inbound === 'fail') return Promise.reject(new Error('KafkaJSNumberOfRetriesExceeded'));
        const message = event as InboundMessage;
        this.published.push(message);
        if (this.inbound === 'hold') this.held.push(message);
        else {
          this.queue.push(message);
          void this.drain();
        }
        return Promise.resolve();
      },
    };
    return producer as unknown as BatchProducer;
  }

  /** One batch at a time, as one partition's consumers would; whatever queued meanwhile is the next batch. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          await this.through(batch);
        } catch (error) {
          this.errors.push(error);
        }
      }
    } finally {
      this.draining = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async through(batch: InboundMessage[]): Promise<void> {
    const sequenced = await this.sequence.execute(batch);
    if (sequenced === 'abandoned') throw new Error('abandoned');
    await sequenced.durable;
    await (
      await this.persist.execute(this.hops.take('sequenced'))
    ).durable;
    await this.fanOut.execute(this.hops.take('persisted'));
  }
}
