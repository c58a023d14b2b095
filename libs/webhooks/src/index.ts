export { isSignedBy, signBody } from './signature';
export { parseVerdict, type ModerationVerdict } from './moderation-verdict';
export { WebhookCaller, WebhookCallFailed, type WebhookOutcome } from './webhook-caller';
export {
  previewOf,
  PREVIEW_CHARS,
  type BeforeSendEvent,
  type OfflineEvent,
  type WebhookEventName,
  type WebhookEvents,
} from './webhook-events';
export { WebhooksModule } from './webhooks.module';
