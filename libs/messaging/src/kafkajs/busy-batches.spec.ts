import { BusyBatches } from './busy-batches';

describe('BusyBatches', () => {
  it('heartbeats once for the consumer while a young batch runs, never for one past the limit', async () => {
    const busy = new BusyBatches(60_000);
    let beats = 0;
    let finish: () => void = () => undefined;
    const batch = new Promise<void>((r) => (finish = r));
    const tracked = busy.track(batch, async () => void beats++, 0);
    void busy.track(new Promise<void>(() => undefined), async () => void beats++, 0);
    busy.heartbeat(30_000);
    expect(beats).toBe(1);
    busy.heartbeat(60_001);
    expect(beats).toBe(1);
    finish();
    await tracked;
    expect(busy.size).toBe(1);
  });

  it('forgets a batch that failed, and its failure reaches the caller', async () => {
    const busy = new BusyBatches(1000);
    await expect(busy.track(Promise.reject(new Error('handler')), async () => undefined)).rejects.toThrow(
      'handler',
    );
    expect(busy.size).toBe(0);
    await busy.settled();
  });
});
