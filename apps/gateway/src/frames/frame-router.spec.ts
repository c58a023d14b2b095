import type { AppConfig } from '@im/config';
import { ProtocolError, type ServerFrame } from '@im/protocol';
import { ClientConnection } from '../connections/client-connection';
import type { MessageLimiter } from '../limits/message-limiter.service';
import type { ForwardSignalUseCase } from '../messaging/forward-signal/forward-signal.usecase';
import type { HideMessageUseCase } from '../messaging/hide-message/hide-message.usecase';
import type { SendMessageUseCase } from '../messaging/send-message/send-message.usecase';
import type { QueriesService } from '../queries/queries.service';
import { FrameRouter } from './frame-router';

/** The edge: frames to use cases, refusals and failures to `error` frames. */
describe('FrameRouter', () => {
  function setup(refusal?: ProtocolError, signalFailure?: Error, hideFailure?: ProtocolError) {
    const config = { MAX_BODY_BYTES: 64 * 1024, RATE_LIMIT_CLOSE_AFTER: 2 } as AppConfig;
    let refusals = 0;
    const limiter = {
      recordRefusal: () => (++refusals >= 2 ? 'abusive' : 'refused'),
    } as unknown as MessageLimiter;
    const sends = {
      execute: async (_conn: unknown, _command: unknown, refused: (r: ProtocolError) => void) => {
        if (refusal) refused(refusal);
      },
    } as unknown as SendMessageUseCase;
    const signals = {
      execute: async () => {
        if (signalFailure) throw signalFailure;
      },
    } as unknown as ForwardSignalUseCase;
    const hides = {
      execute: async (_user: string, frame: { reqId: string; conversationId: string; seq: number }) => {
        if (hideFailure) throw hideFailure;
        return { ...frame, type: 'hide_result' as const };
      },
    } as unknown as HideMessageUseCase;
    const router = new FrameRouter(config, sends, signals, {} as QueriesService, limiter, hides);
    const frames: ServerFrame[] = [];
    const closed: number[] = [];
    const socket = {
      OPEN: 1,
      readyState: 1,
      send: (text: string) => frames.push(JSON.parse(text) as ServerFrame),
      close: (code: number) => closed.push(code),
    };
    const conn = new ClientConnection(socket as never, 'u1', 'd1', Date.now() + 3_600_000);
    const text = (frame: object) => router.handleText(conn, JSON.stringify(frame));
    return { text, frames, closed };
  }
  const send = {
    type: 'send',
    clientMsgId: 'm1',
    conversationId: 'c1',
    contentType: 'text',
    body: { text: 'hi' },
  };
  const flush = () => new Promise((r) => setImmediate(r));

  it('answers a refused send with an error frame that names it', async () => {
    const { text, frames } = setup(new ProtocolError('forbidden', 'not a member'));
    text(send);
    await flush();
    expect(frames).toEqual([{ type: 'error', ref: 'm1', code: 'forbidden', message: 'not a member' }]);
  });

  it('closes a connection refused rate_limited again and again (4429)', async () => {
    const { text, frames, closed } = setup(new ProtocolError('rate_limited', 'slow down'));
    text(send);
    text({ ...send, clientMsgId: 'm2' });
    await flush();
    expect(frames.map((f) => f.type === 'error' && f.code)).toEqual(['rate_limited', 'rate_limited']);
    expect(closed).toEqual([4429]);
  });

  it('answers a failed signal by its class of error, without the text of an unknown one', async () => {
    const { text, frames } = setup(undefined, new Error('secret detail'));
    text({ type: 'read', conversationId: 'c1', seq: 3 });
    await flush();
    expect(frames).toEqual([{ type: 'error', code: 'internal', message: 'the request failed' }]);
  });

  it('answers a send the protocol refuses with bad_request; it never reaches the use case', async () => {
    const { text, frames } = setup(new ProtocolError('forbidden', 'unreachable'));
    text({ ...send, body: 'not an object' });
    await flush();
    expect(frames).toEqual([expect.objectContaining({ type: 'error', ref: 'm1', code: 'bad_request' })]);
  });

  it('answers a hide with hide_result, and a refused hide with an error naming its reqId', async () => {
    const hide = { type: 'hide', reqId: 'h1', conversationId: 'c1', seq: 4 };
    const ok = setup();
    ok.text(hide);
    await flush();
    expect(ok.frames).toEqual([{ type: 'hide_result', reqId: 'h1', conversationId: 'c1', seq: 4 }]);
    const refused = setup(undefined, undefined, new ProtocolError('not_found', 'no message 4'));
    refused.text(hide);
    await flush();
    expect(refused.frames).toEqual([
      { type: 'error', ref: 'h1', code: 'not_found', message: 'no message 4' },
    ]);
  });

  it('refuses a reaction whose emoji has whitespace or is too long before it reaches the use case', async () => {
    const { text, frames } = setup(new ProtocolError('forbidden', 'unreachable'));
    const react = { type: 'react', clientMsgId: 'r1', conversationId: 'c1', targetSeq: 1, op: 'add' };
    text({ ...react, emoji: 'a b' });
    text({ ...react, emoji: '👍'.repeat(33) });
    text({ ...react, emoji: '' });
    await flush();
    expect(frames.map((f) => f.type === 'error' && [f.ref, f.code])).toEqual([
      ['r1', 'bad_request'],
      ['r1', 'bad_request'],
      ['r1', 'bad_request'],
    ]);
  });
});
