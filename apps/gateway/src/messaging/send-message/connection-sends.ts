import { RefusalFence } from './refusal-fence';

/** One connection's sends as SendMessageUseCase keeps them: their order, and the fence of refused ones. */
export class ConnectionSends {
  /** Each send is checked after the one before it. */
  chain: Promise<void> = Promise.resolve();
  /** Each send is published after the one before it (its moderation may overlap), so they reach Kafka in arrival order. */
  publishTurn: Promise<void> = Promise.resolve();
  /** Sends whose turn is queued on publishTurn and not over yet. */
  openTurns = 0;
  /** Which conversations' sends wait for the resend of a refused one (docs/protocol.md G3). */
  readonly fence = new RefusalFence();
}
