import { Module } from '@nestjs/common';
import { ConfigModule } from '@im/config';
import { DatabaseModule } from '@im/database';
import { HealthModule } from '@im/health';
import { KafkaModule } from '@im/messaging';
import { TracingModule } from '@im/tracing';
import { MembershipModule, RedisModule } from '@im/realtime';
import { WebhooksModule } from '@im/webhooks';
import { AdminGuard } from './admin/admin.guard';
import { BroadcastJobs } from './admin/broadcast/broadcast-jobs.store';
import { BroadcastRunner } from './admin/broadcast/broadcast-runner';
import { BroadcastService } from './admin/broadcast/broadcast.service';
import { BroadcastsController } from './admin/broadcasts.controller';
import { ConversationLookup } from './admin/conversation-lookup';
import { ConversationsController } from './admin/conversations.controller';
import { MembershipChanges } from './admin/membership-changes';
import { UserSessions } from './admin/user-sessions';
import { HideMessageUseCase } from './messaging/hide-message/hide-message.usecase';
import { MessagesController } from './admin/messages.controller';
import { DemoController } from './demo/demo.controller';
import { SystemMessagesService } from './admin/system-messages.service';
import { UsersController } from './admin/users.controller';
import { TokenService } from './auth/token.service';
import { AckWaiters } from './connections/ack-waiters';
import { ConnectionRegistry } from './connections/connection-registry';
import { LocalConnections } from './connections/local-connections';
import { WsEndpoint } from './connections/ws-endpoint';
import { FrameRouter } from './frames/frame-router';
import { MessageLimiter } from './limits/message-limiter.service';
import { AcceptMessageUseCase } from './messaging/accept-message.usecase';
import { ForwardSignalUseCase } from './messaging/forward-signal/forward-signal.usecase';
import { SendMessageUseCase } from './messaging/send-message/send-message.usecase';
import { ModerateSendUseCase } from './messaging/moderation/moderate-send.usecase';
import { ModerationVerdicts } from './messaging/moderation/moderation-verdicts.store';
import { QueriesService } from './queries/queries.service';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    MembershipModule,
    WebhooksModule,
    TracingModule.forService('gateway'),
    KafkaModule.forService('gateway'),
    HealthModule.checking('kafka', 'postgres', 'redis'),
  ],
  controllers: [
    UsersController,
    ConversationsController,
    MessagesController,
    BroadcastsController,
    DemoController,
  ],
  providers: [
    ConversationLookup,
    MembershipChanges,
    UserSessions,
    TokenService,
    AdminGuard,
    ConnectionRegistry,
    LocalConnections,
    AckWaiters,
    AcceptMessageUseCase,
    SendMessageUseCase,
    ModerateSendUseCase,
    ModerationVerdicts,
    ForwardSignalUseCase,
    HideMessageUseCase,
    QueriesService,
    FrameRouter,
    MessageLimiter,
    WsEndpoint,
    SystemMessagesService,
    BroadcastService,
    BroadcastJobs,
    BroadcastRunner,
  ],
})
export class GatewayModule {}
