import { Injectable } from '@nestjs/common';
import { BatchProducer, DeviceSignal } from '@im/messaging';
import { ClientFrameMap, ProtocolError } from '@im/protocol';
import type { ClientConnection } from '../../connections/client-connection';
import { MessageLimiter } from '../../limits/message-limiter.service';
import { QueriesService } from '../../queries/queries.service';

export type SignalFrame = ClientFrameMap['deliver_ack' | 'read' | 'typing'];

/**
 * A device's deliver_ack, read or typing, handed to delivery through the signals topic once
 * the device's user is known to be a member. Typing counts against the message rate limits
 * (it is pushed to others); acks and reads do not (a client must always be able to ack).
 */
@Injectable()
export class ForwardSignalUseCase {
  constructor(
    private readonly queries: QueriesService,
    private readonly limiter: MessageLimiter,
    private readonly producer: BatchProducer,
  ) {}

  async execute(conn: ClientConnection, frame: SignalFrame): Promise<void> {
    if (frame.type === 'typing' && !this.limiter.check(conn))
      throw new ProtocolError('rate_limited', 'too many messages; slow down and retry later');
    await this.queries.requireMember(frame.conversationId, conn.userId);
    const base = { userId: conn.userId, deviceId: conn.deviceId, conversationId: frame.conversationId };
    const signal: DeviceSignal =
      frame.type === 'typing' ? { kind: 'typing', ...base } : { kind: frame.type, ...base, seq: frame.seq };
    await this.producer.publish('signals', frame.conversationId, signal);
  }
}
