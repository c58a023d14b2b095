import { Module } from '@nestjs/common';
import { ConfigModule } from '@im/config';
import { WebhookCaller } from './webhook-caller';

/** Signed calls to the app server's WEBHOOK_URL. */
@Module({
  imports: [ConfigModule],
  providers: [WebhookCaller],
  exports: [WebhookCaller],
})
export class WebhooksModule {}
