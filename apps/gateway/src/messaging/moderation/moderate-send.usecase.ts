import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { isControlContentType } from '@im/protocol';
import { parseVerdict, WebhookCaller, type ModerationVerdict } from '@im/webhooks';
import type { AcceptCommand } from '../accept-message.usecase';
import { moderationOutcome } from './moderation-outcome';
import { ModerationVerdicts } from './moderation-verdicts.store';

const moderated = metrics.counter(
  'im_webhook_before_send_total',
  'Sends moderated by message.before_send, by result (allow, reject, replace, fail_open, fail_closed, remembered)',
);

/**
 * message.before_send (docs/protocol.md §5.8): asks the app server about each new send before it
 * is published. A resend is answered with the verdict its first attempt got, without a call.
 */
@Injectable()
export class ModerateSendUseCase {
  private readonly logger = new Logger('moderation');

  constructor(
    private readonly config: AppConfig,
    private readonly caller: WebhookCaller,
    private readonly verdicts: ModerationVerdicts,
  ) {}

  /** Whether sends are moderated at all: admin and control messages never are. */
  applies(command: AcceptCommand): boolean {
    return (
      this.config.WEBHOOK_BEFORE_SEND &&
      this.caller.enabled &&
      !command.admin &&
      !isControlContentType(command.contentType)
    );
  }

  /** The command to publish (its body perhaps replaced), or throws the refusal. */
  async moderate(command: AcceptCommand): Promise<AcceptCommand> {
    if (!this.applies(command)) return command;
    const known = await this.verdicts.recall(command);
    const verdict = known ?? (await this.ask(command));
    const outcome = moderationOutcome(command, verdict, {
      failOpen: this.config.WEBHOOK_FAIL_OPEN,
      maxBodyBytes: this.config.MAX_BODY_BYTES,
    });
    if (outcome.invalidReplacement)
      this.logger.warn(
        `before_send replacement for ${command.clientMsgId} refused: ${outcome.invalidReplacement.message}`,
      );
    moderated.inc({ result: known ? 'remembered' : outcome.result });
    if (!known && outcome.remember) await this.verdicts.remember(command, outcome.remember);
    if ('refuse' in outcome) throw outcome.refuse;
    return outcome.publish === command.body ? command : { ...command, body: outcome.publish };
  }

  private async ask(command: AcceptCommand): Promise<ModerationVerdict | undefined> {
    const payload = {
      conversationId: command.conversationId,
      senderId: command.senderId,
      clientMsgId: command.clientMsgId,
      contentType: command.contentType,
      body: command.body,
      ...(command.replyTo !== undefined && { replyTo: command.replyTo }),
      ...(command.mentions !== undefined && { mentions: command.mentions }),
    };
    try {
      // Each attempt is its own delivery: before_send is never retried by the backend.
      const answer = await this.caller.post(
        'message.before_send',
        `bs-${crypto.randomUUID()}`,
        payload,
        this.config.WEBHOOK_TIMEOUT_MS,
      );
      const verdict = parseVerdict(answer);
      if (!verdict) this.logger.warn(`before_send answer for ${command.clientMsgId} is no verdict`);
      return verdict;
    } catch (error) {
      this.logger.warn(`before_send for ${command.clientMsgId} failed: ${String(error)}`);
      return undefined;
    }
  }
}
