import { resendDelay } from './backoff';
import type { Clock, TimerHandle } from './clock';
import { asClientError, ClientError } from './errors';
import { isOutboxEntry, type OutboxEntry, type OutboxFrame, type OutboxStorage } from './outbox-storage';
import type { Ack, ClientFrame } from './protocol';

export interface OutboxDeps {
  storage: OutboxStorage;
  clock: Clock;
  failAfterMs: number;
  maxFrameBytes: number;
  /** True between welcome and the connection's end. */
  isOnline(): boolean;
  /** Puts a frame on the wire; false when not connected (after welcome). */
  write(frame: ClientFrame): boolean;
  onChange(): void;
  onAcked(entry: OutboxEntry, ack: Ack): void;
  onFailed(entry: OutboxEntry, error: ClientError): void;
  onError(error: ClientError): void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: ClientError): void;
}

/** An entry and what this process knows about its transmissions. */
interface Tracked {
  entry: OutboxEntry;
  /** False until storage.put resolved: nothing goes on the wire before it is durable. */
  stored: boolean;
  /** Transmissions in this process; the resend ladder is indexed by it. */
  sends: number;
  lastSentAt: number;
  /** When the entry fails if still unacked: failAfterMs after it was queued or retried here. */
  deadline: number;
  timer?: TimerHandle;
  waiter?: Deferred<Ack>;
  /** The server refused its last transmission with a code that may pass, and it has not gone out since. */
  refused: boolean;
  /** It was due to go out while an older entry of its conversation was refused: it goes right after that one. */
  held: boolean;
  /** After a refusal that may pass: resent by then at the latest, whatever the ladder says. */
  resendBy?: number;
}

/** A refused entry is resent within this long: everything newer of its conversation waits for it. */
const REFUSED_RESEND_MS = 2000;

/**
 * The durable outbox: every send/edit/react/recall frame is stored before its first transmission,
 * resent unchanged on the ladder 1 s, 3 s, 5 s, 10 s, 20 s, 32 s… and after every welcome,
 * and deleted only once acked. A resend never duplicates: the server answers it with the
 * same ack (docs/protocol.md G2). After a refusal that may pass, nothing newer of that conversation
 * goes out before the refused entry's resend, and the entries held behind it follow it in
 * their order (docs/protocol.md G3, §7): the server refuses them anyway, and sequences the resends in
 * the order they arrive.
 */
export class Outbox {
  private readonly tracked = new Map<string, Tracked>();
  /** Wire order of new sends: each transmits after its own put and after every earlier send. */
  private chain: Promise<void> = Promise.resolve();
  private loaded?: Promise<void>;
  private disposed = false;

  /** The app's storage, with a synchronous throw turned into a rejection like any other failure. */
  private readonly storage: OutboxStorage;

  constructor(private readonly deps: OutboxDeps) {
    const guard = <T>(work: () => Promise<T>) => new Promise<T>((resolve) => resolve(work()));
    this.storage = {
      load: () => guard(() => deps.storage.load()),
      put: (entry) => guard(() => deps.storage.put(entry)),
      delete: (clientMsgId) => guard(() => deps.storage.delete(clientMsgId)),
    };
  }

  /** Takes over what the storage kept from an earlier run; runs once, before any new send. */
  load(): Promise<void> {
    this.loaded ??= this.storage.load().then((entries) => {
      const now = this.deps.clock.now();
      for (const entry of entries) {
        if (!isOutboxEntry(entry) || this.tracked.has(entry.clientMsgId)) continue;
        const t: Tracked = {
          entry,
          stored: true,
          sends: 0,
          lastSentAt: 0,
          deadline: now + this.deps.failAfterMs,
          refused: false,
          held: false,
        };
        this.tracked.set(entry.clientMsgId, t);
        if (entry.state === 'pending') this.transmit(t);
      }
      if (entries.length > 0) this.deps.onChange();
    });
    // New sends wait for the recovered ones, which are older and must go out first.
    // A storage that cannot be read is reported once; the client goes on with new sends only.
    this.chain = this.loaded.catch((error: unknown) => {
      this.deps.onError(asClientError(error, 'storage', 'loading the outbox failed'));
    });
    return this.loaded;
  }

  /** Every entry, oldest first (copies). */
  entries(): OutboxEntry[] {
    return this.ordered().map((t) => structuredClone(t.entry));
  }

  /** Queues a frame; the promise settles with its ack or its failure. */
  add(frame: OutboxFrame): Promise<Ack> {
    const waiter = deferred<Ack>();
    if (this.disposed) {
      waiter.reject(new ClientError('closed', 'the client is closed', frame.clientMsgId));
      return waiter.promise;
    }
    // A frame over the server's limit would close the connection (1009) on every resend.
    const size = new TextEncoder().encode(JSON.stringify(frame)).length;
    if (size > this.deps.maxFrameBytes) {
      waiter.reject(
        new ClientError(
          'too_large',
          `frame of ${size} bytes exceeds ${this.deps.maxFrameBytes}`,
          frame.clientMsgId,
        ),
      );
      return waiter.promise;
    }
    const now = this.deps.clock.now();
    const entry: OutboxEntry = { clientMsgId: frame.clientMsgId, frame, createdAt: now, state: 'pending' };
    const t: Tracked = {
      entry,
      stored: false,
      sends: 0,
      lastSentAt: 0,
      deadline: now + this.deps.failAfterMs,
      waiter,
      refused: false,
      held: false,
    };
    this.tracked.set(entry.clientMsgId, t);
    this.deps.onChange();
    const put = this.storage.put(entry);
    // Observed below only once earlier sends are through; until then it must not count as unhandled.
    put.catch(() => undefined);
    this.chain = this.chain
      .then(() => put)
      .then(
        () => {
          if (this.tracked.get(entry.clientMsgId) !== t) return;
          t.stored = true;
          // failPending() may have failed it while the put was under way.
          if (t.entry.state === 'pending') this.transmit(t);
        },
        (error: unknown) => {
          if (this.tracked.get(entry.clientMsgId) === t) this.tracked.delete(entry.clientMsgId);
          const e = asClientError(error, 'storage', 'the message could not be stored; it was not sent');
          t.waiter?.reject(new ClientError(e.code, e.message, entry.clientMsgId, { cause: error }));
          this.deps.onError(e);
          this.deps.onChange();
        },
      );
    return waiter.promise;
  }

  /** After every welcome: everything stored and pending goes out again, oldest first. */
  online(): void {
    // A new connection starts without refusals: the server's fence was the old connection's.
    for (const t of this.tracked.values()) t.refused = t.held = false;
    for (const t of this.ordered()) if (t.stored && t.entry.state === 'pending') this.transmit(t);
  }

  /** An `ack`: the entry is done. Returns it, or undefined for an ack already handled. */
  ack(ack: Ack): OutboxEntry | undefined {
    const t = this.tracked.get(ack.clientMsgId);
    if (!t) return undefined;
    this.forget(t);
    this.release(t);
    this.deps.storage
      .delete(ack.clientMsgId)
      // Not fatal: after a restart it is resent and answered with the same ack.
      .catch((error: unknown) =>
        this.deps.onError(asClientError(error, 'storage', 'removing an acked message failed')),
      );
    t.waiter?.resolve(ack);
    this.deps.onAcked(t.entry, ack);
    this.deps.onChange();
    return t.entry;
  }

  /**
   * Its own message reached this device by push, `sync` or `history`: the server holds it,
   * so the entry is done even if its ack was lost or it was marked failed meanwhile.
   */
  arrived(ack: Ack): OutboxEntry | undefined {
    const t = this.tracked.get(ack.clientMsgId);
    if (!t || t.entry.frame.conversationId !== ack.conversationId) return undefined;
    return this.ack(ack);
  }

  /** An `error` frame about one of the entries; returns false when ref is not ours. */
  error(ref: string, error: ClientError): boolean {
    const t = this.tracked.get(ref);
    if (!t) return false;
    // unavailable, internal, rate_limited: the ladder resends the same frame, and newer
    // entries of the conversation wait for that resend.
    if (!error.retryable) this.fail(t, error);
    else if (t.entry.state === 'pending') {
      t.refused = true;
      // Its conversation waits for this resend: do not let a late ladder step stall it.
      t.resendBy = this.deps.clock.now() + REFUSED_RESEND_MS;
      this.arm(t);
    }
    return true;
  }

  /** Fails every pending entry whose frame matches; they stay for retry() or discard(). */
  failPending(matches: (frame: OutboxFrame) => boolean, error: (clientMsgId: string) => ClientError): void {
    for (const t of this.ordered())
      if (t.entry.state === 'pending' && matches(t.entry.frame)) this.fail(t, error(t.entry.clientMsgId));
  }

  /** Sends a failed entry again with a fresh time budget. */
  retry(clientMsgId: string): Promise<Ack> {
    const t = this.tracked.get(clientMsgId);
    if (!t)
      return Promise.reject(
        new ClientError('unknown_message', `${clientMsgId} is not in the outbox`, clientMsgId),
      );
    t.waiter ??= deferred<Ack>();
    if (t.entry.state === 'pending') return t.waiter.promise;
    t.entry = { ...t.entry, state: 'pending' };
    delete t.entry.error;
    t.sends = 0;
    t.deadline = this.deps.clock.now() + this.deps.failAfterMs;
    t.stored = false;
    const waiter = t.waiter;
    this.deps.onChange();
    this.persist(t).then(
      () => {
        t.stored = true;
        if (this.tracked.get(clientMsgId) === t && t.entry.state === 'pending') this.transmit(t);
      },
      (error: unknown) => {
        const e = asClientError(error, 'storage', 'the retried message could not be stored');
        this.fail(t, new ClientError(e.code, e.message, clientMsgId, { cause: error }));
      },
    );
    return waiter.promise;
  }

  /** Removes an entry for good (a failed message the user gave up on). */
  async discard(clientMsgId: string): Promise<void> {
    const t = this.tracked.get(clientMsgId);
    if (!t) throw new ClientError('unknown_message', `${clientMsgId} is not in the outbox`, clientMsgId);
    await this.storage.delete(clientMsgId);
    if (this.tracked.get(clientMsgId) !== t) return;
    this.forget(t);
    this.release(t);
    t.waiter?.reject(new ClientError('closed', 'the message was discarded', clientMsgId));
    this.deps.onChange();
  }

  /** close(): timers stop, promises reject with 'closed'; the storage keeps every entry. */
  dispose(): void {
    this.disposed = true;
    for (const t of this.tracked.values()) {
      if (t.timer !== undefined) this.deps.clock.clearTimeout(t.timer);
      t.waiter?.reject(
        new ClientError(
          'closed',
          'the client was closed; the message stays in the outbox',
          t.entry.clientMsgId,
        ),
      );
    }
    this.tracked.clear();
  }

  private ordered(): Tracked[] {
    // Stable sort: entries created in the same millisecond keep their insertion order.
    return [...this.tracked.values()].sort((a, b) => a.entry.createdAt - b.entry.createdAt);
  }

  /**
   * Writes the frame if connected, then arms the timer of the next resend or of the failure.
   * Held back while an older entry of its conversation is refused; a refused entry that goes
   * out releases the entries held behind it.
   */
  private transmit(t: Tracked): void {
    if (this.disposed) return;
    if (this.refusedBefore(t)) {
      t.held = true;
      return this.arm(t);
    }
    const wasRefused = t.refused;
    t.held = t.refused = false;
    t.resendBy = undefined;
    if (this.deps.write(t.entry.frame)) {
      t.sends++;
      t.lastSentAt = this.deps.clock.now();
    }
    this.arm(t);
    if (wasRefused) this.release(t);
  }

  /** Whether an older pending entry of t's conversation waits for its resend after a refusal. */
  private refusedBefore(t: Tracked): boolean {
    if (![...this.tracked.values()].some((u) => u.refused)) return false;
    const conversationId = t.entry.frame.conversationId;
    for (const u of this.ordered()) {
      if (u === t) return false;
      if (u.refused && u.entry.state === 'pending' && u.entry.frame.conversationId === conversationId)
        return true;
    }
    return false;
  }

  /** After `done` went out, was acked, failed or was discarded: what waited behind it goes, in order. */
  private release(done: Tracked): void {
    const conversationId = done.entry.frame.conversationId;
    for (const u of this.ordered())
      if (
        u !== done &&
        u.entry.state === 'pending' &&
        u.stored &&
        (u.held || u.refused) &&
        u.entry.frame.conversationId === conversationId &&
        this.deps.isOnline()
      )
        this.transmit(u);
  }

  private arm(t: Tracked): void {
    if (t.timer !== undefined) this.deps.clock.clearTimeout(t.timer);
    t.timer = undefined;
    if (t.entry.state !== 'pending') return;
    // Offline, never sent or held, only the deadline is due: a welcome or a release sends it.
    const resendAt =
      t.sends > 0 && this.deps.isOnline() && !t.held
        ? Math.min(t.lastSentAt + resendDelay(t.sends), t.resendBy ?? Number.POSITIVE_INFINITY)
        : Number.POSITIVE_INFINITY;
    const delay = Math.max(0, Math.min(resendAt, t.deadline) - this.deps.clock.now());
    t.timer = this.deps.clock.setTimeout(() => this.onTimer(t), delay);
  }

  private onTimer(t: Tracked): void {
    t.timer = undefined;
    if (this.tracked.get(t.entry.clientMsgId) !== t || t.entry.state !== 'pending') return;
    if (this.deps.clock.now() >= t.deadline)
      this.fail(
        t,
        new ClientError('timeout', `not acked within ${this.deps.failAfterMs} ms`, t.entry.clientMsgId),
      );
    else this.transmit(t);
  }

  private fail(t: Tracked, error: ClientError): void {
    if (t.timer !== undefined) this.deps.clock.clearTimeout(t.timer);
    t.timer = undefined;
    t.refused = t.held = false;
    t.entry = { ...t.entry, state: 'failed', error: { code: error.code, message: error.message } };
    this.release(t);
    this.persist(t).catch((e: unknown) =>
      this.deps.onError(asClientError(e, 'storage', 'storing a failed message failed')),
    );
    const waiter = t.waiter;
    t.waiter = undefined;
    waiter?.reject(error);
    this.deps.onFailed(structuredClone(t.entry), error);
    this.deps.onChange();
  }

  private persist(t: Tracked): Promise<void> {
    return this.storage.put(t.entry);
  }

  private forget(t: Tracked): void {
    if (t.timer !== undefined) this.deps.clock.clearTimeout(t.timer);
    t.timer = undefined;
    this.tracked.delete(t.entry.clientMsgId);
  }
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: ClientError) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The app may ignore the promise (it has the 'ack' and 'failed' events); a rejection it
  // never looks at must not become an unhandled rejection that kills a Node process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
