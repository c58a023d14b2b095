import { Injectable } from '@nestjs/common';
import type { ServerFrame } from '@im/protocol';

/** The answer to an admin call did not come in time. */
export class AckTimeoutError extends Error {
  constructor() {
    super('timed out waiting for the message to become durable');
  }
}

/** Admin calls waiting for the ack of the message they produced, by their `rest:` connection id. */
@Injectable()
export class AckWaiters {
  private readonly waiters = new Map<string, (frame: ServerFrame) => void>();

  wait(restId: string, timeoutMs: number): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(restId);
        reject(new AckTimeoutError());
      }, timeoutMs);
      this.waiters.set(restId, (frame) => {
        clearTimeout(timer);
        this.waiters.delete(restId);
        resolve(frame);
      });
    });
  }

  /** Hands the frame to the call waiting under `connId`; false when none waits. */
  answer(connId: string, frame: ServerFrame): boolean {
    const waiter = this.waiters.get(connId);
    waiter?.(frame);
    return waiter !== undefined;
  }
}
