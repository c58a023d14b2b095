import type { Clock, TimerHandle } from '../clock';

// Captured at load, so that a test that fakes the global timers cannot stall flush().
const realSetTimeout = globalThis.setTimeout;

/** Lets every pending promise chain (and zero-delay real timer) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => realSetTimeout(resolve, 0));
}

interface FakeTimer {
  id: number;
  at: number;
  callback: () => void;
}

/** A manual clock: time moves only through advance(), which runs the timers that fall due. */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.current + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by ms, running due timers in order and settling promises after each. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    await flush();
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.timers.delete(next.id);
      this.current = next.at;
      next.callback();
      await flush();
    }
    this.current = end;
    await flush();
  }

  private nextDue(end: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers.values())
      if (t.at <= end && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    return best;
  }
}
