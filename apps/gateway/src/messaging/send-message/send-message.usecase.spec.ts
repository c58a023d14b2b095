import { Tracer } from '@im/tracing';
import type { AppConfig } from '@im/config';
import { ProtocolError } from '@im/protocol';
import { ClientConnection } from '../../connections/client-connection';
import type { MessageLimiter } from '../../limits/message-limiter.service';
import type { AcceptCommand, AcceptMessageUseCase } from '../accept-message.usecase';
import type { ModerateSendUseCase } from '../moderation/moderate-send.usecase';
import { SendMessageUseCase } from './send-message.usecase';

/**
 * Regression (chaos, issue 5): after a Redis restart a send's membership check never settled,
 * and every later send of that connection queued behind it for good. The check now gives up
 * after 10 s with `unavailable`, which the client retries. Regression (issue 12): a send behind
 * a refused one was accepted and sequenced before the refused one's resend; now the sends of
 * that conversation behind it are refused with it, and the others go on.
 */
describe('SendMessageUseCase', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup(
    check: (clientMsgId: string) => Promise<void>,
    publish: (clientMsgId: string) => Promise<void> = async () => undefined,
    /** Given: moderation applies to every send and answers this; else none applies. */
    moderate?: (command: AcceptCommand) => Promise<AcceptCommand>,
  ) {
    const published: string[] = [];
    const bodies: unknown[] = [];
    const queued: string[] = [];
    const accept = {
      check: (command: { clientMsgId: string }) => check(command.clientMsgId),
      publish: async (command: { clientMsgId: string; body: unknown }) => {
        queued.push(command.clientMsgId);
        bodies.push(command.body);
        await publish(command.clientMsgId);
        published.push(command.clientMsgId);
      },
    } as unknown as AcceptMessageUseCase;
    const config = { INSTANCE_ID: 'gw-test' } as AppConfig;
    const limiter = { check: () => true } as unknown as MessageLimiter;
    // Sends named plain-… are not moderated (as edits are not), the others are when `moderate` is given.
    const moderation = {
      applies: (c: AcceptCommand) => moderate !== undefined && !c.clientMsgId.startsWith('plain'),
      moderate,
    } as unknown as ModerateSendUseCase;
    const sends = new SendMessageUseCase(config, accept, limiter, moderation, Tracer.off);
    /** The refusals, as the edge would answer them: an `error` frame per refused send. */
    const frames: { type: 'error'; ref: string; code: string }[] = [];
    const conn = new ClientConnection({} as never, 'u1', 'd1', Date.now() + 3_600_000);
    const send = (clientMsgId: string, conversationId = 'c1') =>
      void sends.execute(
        conn,
        { clientMsgId, conversationId, contentType: 'text', body: { text: clientMsgId } },
        (refusal) => frames.push({ type: 'error', ref: clientMsgId, code: refusal.code }),
      );
    return { send, published, queued, frames, bodies };
  }

  it('answers a check that never settles with unavailable; sends to other conversations go on', async () => {
    const { send, published, frames } = setup((id) =>
      id === 'stuck' ? new Promise<void>(() => undefined) : Promise.resolve(),
    );
    send('stuck');
    send('other', 'c2');
    send('next');
    await jest.advanceTimersByTimeAsync(9_000);
    expect(published).toEqual([]);
    expect(frames).toEqual([]);

    await jest.advanceTimersByTimeAsync(1_500);
    expect(frames).toEqual([
      expect.objectContaining({ type: 'error', ref: 'stuck', code: 'unavailable' }),
      expect.objectContaining({ type: 'error', ref: 'next', code: 'unavailable' }),
    ]);
    expect(published).toEqual(['other']);
  });

  it('refuses the sends behind a refused one with its code, and takes the resends in order', async () => {
    let down = true;
    const { send, published, frames } = setup(async (id) => {
      if (down && id === 'a') throw new ProtocolError('unavailable', 'Redis is restarting');
    });
    send('a');
    send('b');
    send('c');
    await jest.advanceTimersByTimeAsync(10);
    expect(frames.map((f) => [f.ref, f.code])).toEqual([
      ['a', 'unavailable'],
      ['b', 'unavailable'],
      ['c', 'unavailable'],
    ]);
    expect(published).toEqual([]);

    down = false;
    for (const id of ['a', 'b', 'c', 'd']) send(id);
    await jest.advanceTimersByTimeAsync(10);
    expect(published).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses a send whose publish failed, and every later send of its conversation', async () => {
    const { send, published, frames } = setup(
      async () => undefined,
      async (id) => {
        if (id === 'a') throw new Error('Kafka refused the request');
      },
    );
    send('a');
    await jest.advanceTimersByTimeAsync(10);
    send('b');
    await jest.advanceTimersByTimeAsync(10);
    expect(frames).toEqual([
      expect.objectContaining({ type: 'error', ref: 'a', code: 'unavailable' }),
      expect.objectContaining({ type: 'error', ref: 'b', code: 'unavailable' }),
    ]);
    expect(published).toEqual([]);
  });

  it('keeps a connection’s sends in arrival order while checks take different times', async () => {
    const delays: Record<string, number> = { a: 300, b: 10, c: 100 };
    const { send, published } = setup(
      (id) => new Promise<void>((resolve) => setTimeout(resolve, delays[id] ?? 0)),
    );
    for (const id of ['a', 'b', 'c']) send(id);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(published).toEqual(['a', 'b', 'c']);
  });

  it('checks and queues the next send while an earlier one still waits for Kafka', async () => {
    const { send, published, queued, frames } = setup(
      async () => undefined,
      (id) => (id === 'a' ? new Promise<void>(() => undefined) : Promise.resolve()),
    );
    send('a');
    send('b');
    await jest.advanceTimersByTimeAsync(10);
    expect(queued).toEqual(['a', 'b']);
    expect(published).toEqual(['b']);
    expect(frames).toEqual([]);
  });
  it('publishes the body moderation gave; a rejection (final, not a passing code) fences nothing', async () => {
    const { send, published, frames, bodies } = setup(
      async () => undefined,
      async () => undefined,
      async (command) => {
        if (command.clientMsgId === 'bad') throw new ProtocolError('rejected', 'spam');
        return command.clientMsgId === 'rude' ? { ...command, body: { text: '***' } } : command;
      },
    );
    send('rude');
    send('bad');
    send('after-bad');
    send('elsewhere', 'c2');
    await jest.advanceTimersByTimeAsync(10);
    expect(published).toEqual(['rude', 'after-bad', 'elsewhere']);
    expect(bodies).toEqual([{ text: '***' }, { text: 'after-bad' }, { text: 'elsewhere' }]);
    expect(frames.map((f) => [f.ref, f.code])).toEqual([['bad', 'rejected']]);
  });
  it('moderates a send while the next ones are checked and moderated, and publishes them in arrival order', async () => {
    const started: string[] = [];
    const { send, published } = setup(
      async () => undefined,
      async () => undefined,
      async (command) => {
        started.push(command.clientMsgId);
        if (command.clientMsgId === 'slow') await new Promise((r) => setTimeout(r, 100));
        return command;
      },
    );
    send('slow');
    send('fast');
    send('elsewhere', 'c2');
    await jest.advanceTimersByTimeAsync(50);
    expect(started).toEqual(['slow', 'fast', 'elsewhere']);
    expect(published).toEqual([]);
    await jest.advanceTimersByTimeAsync(60);
    expect(published).toEqual(['slow', 'fast', 'elsewhere']);
  });

  it('refuses, with a fail-closed send, the sends behind it already checked, and answers in arrival order', async () => {
    const { send, published, frames } = setup(
      async () => undefined,
      async () => undefined,
      async (command) => {
        if (command.clientMsgId !== 'x') return command;
        await new Promise((r) => setTimeout(r, 100));
        throw new ProtocolError('unavailable', 'moderation could not be reached; retry later');
      },
    );
    send('x');
    send('y');
    send('z', 'c2');
    await jest.advanceTimersByTimeAsync(150);
    expect(frames.map((f) => [f.ref, f.code])).toEqual([
      ['x', 'unavailable'],
      ['y', 'unavailable'],
    ]);
    expect(published).toEqual(['z']);
  });
  it('publishes a send moderation does not apply to after an earlier send still being moderated', async () => {
    const { send, published } = setup(
      async () => undefined,
      async () => undefined,
      async (command) => {
        await new Promise((r) => setTimeout(r, 100));
        return command;
      },
    );
    send('slow');
    send('plain-edit');
    await jest.advanceTimersByTimeAsync(50);
    expect(published).toEqual([]);
    await jest.advanceTimersByTimeAsync(60);
    expect(published).toEqual(['slow', 'plain-edit']);
    send('plain-next');
    await jest.advanceTimersByTimeAsync(1);
    expect(published).toEqual(['slow', 'plain-edit', 'plain-next']);
  });
});
