import { randomUUID } from 'node:crypto';
import {
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  BadRequestException,
  ForbiddenException,
} from '@nestjs/common';
import { AppConfig } from '@im/config';
import { AckFields, ProtocolError, SYSTEM_USER_ID } from '@im/protocol';
import { AckWaiters } from '../connections/ack-waiters';
import { AcceptMessageUseCase } from '../messaging/accept-message.usecase';

/** Posts a system message through the same pipeline as a client send and waits for its ack. */
@Injectable()
export class SystemMessagesService {
  constructor(
    private readonly accept: AcceptMessageUseCase,
    private readonly waiters: AckWaiters,
    private readonly config: AppConfig,
  ) {}

  async post(
    conversationId: string,
    clientMsgId: string,
    body: Record<string, unknown>,
    contentType: 'system' | 'recall' = 'system',
  ): Promise<AckFields> {
    const restId = `rest:${randomUUID()}`;
    const command = {
      conversationId,
      senderId: SYSTEM_USER_ID,
      clientMsgId,
      contentType,
      body,
      origin: { gatewayId: this.config.INSTANCE_ID, connId: restId, deviceId: null },
      admin: true as const,
    };
    try {
      await this.accept.check(command);
    } catch (error) {
      if (error instanceof ProtocolError) {
        if (error.code === 'not_found') throw new NotFoundException(error.message);
        if (error.code === 'forbidden') throw new ForbiddenException(error.message);
        throw new BadRequestException(error.message);
      }
      throw error;
    }
    const ack = this.waiters.wait(restId, this.config.ADMIN_ACK_TIMEOUT_MS);
    try {
      await this.accept.publish(command);
      const frame = await ack;
      if (frame.type === 'ack') {
        return {
          clientMsgId: frame.clientMsgId,
          conversationId: frame.conversationId,
          seq: frame.seq,
          messageId: frame.messageId,
          sentAt: frame.sentAt,
        };
      }
      if (frame.type === 'error') throw new BadRequestException(frame.message);
      throw new Error(`unexpected answer ${frame.type}`);
    } catch (error) {
      ack.catch(() => undefined);
      if (error instanceof BadRequestException) throw error;
      throw new ServiceUnavailableException(
        `the message is not confirmed durable yet; retry with the same clientMsgId`,
      );
    }
  }
}
