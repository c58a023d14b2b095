import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { isCluster, type RedisClient } from '../redis-client';
import { MembershipMemo } from './membership-memo';
import { membershipChannel } from './membership-channel';

export const MEMBERSHIP_SUBSCRIBER = Symbol('MEMBERSHIP_SUBSCRIBER');

/**
 * Listens for membership changes on a dedicated subscriber connection and drops the memo's
 * copy of each changed conversation. The memo is trusted only while subscribed: when the
 * connection drops it is emptied, and it is trusted again once the subscription is back.
 */
@Injectable()
export class MembershipInvalidations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('membership');

  constructor(
    @Inject(MEMBERSHIP_SUBSCRIBER) private readonly subscriber: RedisClient,
    private readonly memo: MembershipMemo,
  ) {}

  onApplicationBootstrap(): void {
    const channel = membershipChannel(this.subscriber);
    this.subscriber.on('message', (from: string, conversationId: string) => {
      if (from === channel) this.memo.invalidate(conversationId);
    });
    this.subscriber.on('close', () => this.memo.distrust());
    // ioredis resubscribes after a reconnect on its own; trust comes back only once Redis has
    // confirmed the subscription, so nothing published before that is believed missed.
    this.subscriber.on('ready', () => this.listen(channel));
    // A cluster client stays open when the node its subscription lives on fails; it moves the
    // subscription to another node, and whatever was published meanwhile is missed.
    if (isCluster(this.subscriber))
      this.subscriber.on('-node', () => {
        this.memo.distrust();
        this.listen(channel);
      });
    this.listen(channel);
  }

  async onApplicationShutdown(): Promise<void> {
    this.memo.distrust();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private listen(channel: string): void {
    this.subscriber.subscribe(channel).then(
      () => this.memo.trust(),
      (error: unknown) => this.logger.warn(`membership changes not subscribed yet: ${String(error)}`),
    );
  }
}
