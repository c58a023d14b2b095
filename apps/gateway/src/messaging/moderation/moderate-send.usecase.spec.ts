import type { AppConfig } from '@im/config';
import type { ModerationVerdict, WebhookCaller } from '@im/webhooks';
import type { AcceptCommand } from '../accept-message.usecase';
import { ModerateSendUseCase } from './moderate-send.usecase';
import type { ModerationVerdicts } from './moderation-verdicts.store';

/** Which sends are asked about, and that a remembered verdict saves the call. */
describe('ModerateSendUseCase', () => {
  function setup(config: Partial<AppConfig>, answer = '{"action":"allow"}') {
    const posted: string[] = [];
    const memory = new Map<string, ModerationVerdict>();
    const caller = {
      enabled: config.WEBHOOK_URL !== undefined,
      post: async (_event: string, _id: string, payload: { clientMsgId: string }) => {
        posted.push(payload.clientMsgId);
        return answer;
      },
    } as unknown as WebhookCaller;
    const verdicts = {
      recall: async (k: AcceptCommand) => memory.get(k.clientMsgId),
      remember: async (k: AcceptCommand, v: ModerationVerdict) => void memory.set(k.clientMsgId, v),
    } as unknown as ModerationVerdicts;
    const full = {
      WEBHOOK_FAIL_OPEN: true,
      MAX_BODY_BYTES: 1024,
      WEBHOOK_TIMEOUT_MS: 100,
      ...config,
    } as AppConfig;
    return { moderation: new ModerateSendUseCase(full, caller, verdicts), posted };
  }
  const send = (clientMsgId: string, extra: Partial<AcceptCommand> = {}): AcceptCommand => ({
    conversationId: 'c1',
    senderId: 'alice',
    clientMsgId,
    contentType: 'text',
    body: { text: 'hi' },
    origin: { gatewayId: 'gw', connId: 'x', deviceId: 'd' },
    ...extra,
  });
  const on = { WEBHOOK_URL: 'http://127.0.0.1:9/h', WEBHOOK_BEFORE_SEND: true };

  it('asks nothing unless before_send is on and a URL is set', async () => {
    for (const config of [{ WEBHOOK_BEFORE_SEND: true }, { ...on, WEBHOOK_BEFORE_SEND: false }]) {
      const { moderation, posted } = setup(config);
      await moderation.moderate(send('m1'));
      expect(posted).toEqual([]);
    }
  });

  it('never asks about control messages or the admin API’s messages', async () => {
    const { moderation, posted } = setup(on);
    await moderation.moderate(
      send('e1', { contentType: 'edit', body: { targetSeq: 1, body: { text: 'x' } } }),
    );
    await moderation.moderate(
      send('r1', { contentType: 'reaction', body: { targetSeq: 1, emoji: 'x', op: 'add' } }),
    );
    await moderation.moderate(send('s1', { contentType: 'system', admin: true }));
    await moderation.moderate(send('m1'));
    expect(posted).toEqual(['m1']);
  });

  it('answers a resend from the remembered verdict without a call', async () => {
    const { moderation, posted } = setup(on, '{"action":"replace","body":{"text":"***"}}');
    expect((await moderation.moderate(send('m1'))).body).toEqual({ text: '***' });
    expect((await moderation.moderate(send('m1'))).body).toEqual({ text: '***' });
    expect(posted).toEqual(['m1']);
  });
});
