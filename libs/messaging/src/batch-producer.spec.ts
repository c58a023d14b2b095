import type { AppConfig } from '@im/config';
import { BatchProducer, requestSize, splitAfterFailure } from './batch-producer';
import type { DeviceSignal } from './events';
import type { OutgoingRecord, RecordSender } from './kafka-client';
import { isKafkaOutage, ProducerStalledError } from './kafka-outage';

const record = (bytes: number) => ({ key: 'k', value: 'x'.repeat(bytes - 1) });

describe('requestSize', () => {
  // Regression (chaos suite): after a Kafka restart a storage instance consumed a backlog of
  // thousands of messages and published them in one request of up to 2000 records; the broker
  // refused the >1 MiB record batch (MESSAGE_TOO_LARGE, non-retriable) and the consumer stopped
  // for good, so those conversations were never acked or delivered again.
  it('caps a request by bytes as well as by count', () => {
    const queue = Array.from({ length: 2000 }, () => record(1000));
    expect(requestSize(queue, 2000, 512 * 1024)).toBe(524);
    expect(requestSize(queue, 100, 512 * 1024)).toBe(100);
  });
  it('takes every record when they fit', () => {
    expect(requestSize([record(10), record(10)], 2000, 1024)).toBe(2);
    expect(requestSize([], 2000, 1024)).toBe(0);
  });
  it('always takes at least one record, however large', () => {
    expect(requestSize([record(5000), record(10)], 2000, 1024)).toBe(1);
  });
});

describe('splitAfterFailure', () => {
  const r = (topic: string, key: string, id: string) => ({ topic, key, id });

  // Regression (issue 12): a send whose request failed was overtaken by a later send of the same
  // conversation that went out in the next request and was sequenced first.
  it('fails every queued record of a failed stream with it, and keeps the others in order', () => {
    const failed = [r('inbound', 'c1', 'a'), r('inbound', 'c2', 'b')];
    const queue = [
      r('inbound', 'c1', 'c'),
      r('inbound', 'c3', 'd'),
      r('signals', 'c1', 'e'),
      r('inbound', 'c2', 'f'),
      r('inbound', 'c3', 'g'),
    ];
    const { fallen, kept } = splitAfterFailure(failed, queue);
    expect(fallen.map((x) => x.id)).toEqual(['c', 'f']);
    expect(kept.map((x) => x.id)).toEqual(['d', 'e', 'g']);
  });

  it('keeps the whole queue when no stream of it failed', () => {
    const { fallen, kept } = splitAfterFailure([r('inbound', 'x', 'a')], [r('inbound', 'y', 'b')]);
    expect(fallen).toEqual([]);
    expect(kept.map((x) => x.id)).toEqual(['b']);
  });
});

describe('BatchProducer linger', () => {
  const signal = { type: 'deliver_ack' } as unknown as DeviceSignal;
  const producer = (lingerMs: number) => {
    const requests: OutgoingRecord[][] = [];
    const sender: RecordSender = {
      connect: async () => undefined,
      send: async (records) => void requests.push([...records]),
      disconnect: async () => undefined,
    };
    const config = { KAFKA_TOPIC_PREFIX: 't', KAFKA_LINGER_MS: lingerMs } as AppConfig;
    return { requests, producer: new BatchProducer(sender, config) };
  };
  const publishSpread = async (p: BatchProducer, n: number, gapMs: number) => {
    const done: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      done.push(p.publish('signals', `k${i}`, signal));
      await new Promise((r) => setTimeout(r, gapMs));
    }
    await Promise.all(done);
  };

  it('without linger, records of different turns of the event loop go in separate requests', async () => {
    const { producer: p, requests } = producer(0);
    await p.connect();
    await publishSpread(p, 3, 5);
    expect(requests.map((r) => r.length)).toEqual([1, 1, 1]);
  });

  it('with linger, records arriving within it share one request, in order', async () => {
    const { producer: p, requests } = producer(200);
    await p.connect();
    await publishSpread(p, 3, 5);
    expect(requests.map((r) => r.map((x) => x.key))).toEqual([['k0', 'k1', 'k2']]);
  });
});

describe('BatchProducer with a request that never gets an answer', () => {
  const signal = { type: 'deliver_ack' } as unknown as DeviceSignal;
  const config = { KAFKA_TOPIC_PREFIX: 't', KAFKA_LINGER_MS: 0 } as AppConfig;
  const stuckSender = () => {
    const stuck = { disconnected: false, sent: 0 };
    const sender: RecordSender = {
      connect: async () => undefined,
      send: () => {
        stuck.sent++;
        return new Promise<void>(() => undefined);
      },
      disconnect: async () => void (stuck.disconnected = true),
    };
    return { stuck, sender };
  };

  it('fails the request and the records queued behind it of its streams, then sends on a new client', async () => {
    const { stuck, sender } = stuckSender();
    const sent: OutgoingRecord[][] = [];
    const fresh: RecordSender = {
      connect: async () => undefined,
      send: async (records) => void sent.push([...records]),
      disconnect: async () => undefined,
    };
    const producer = new BatchProducer(sender, config, { stallMs: 50, replaceSender: () => fresh });
    await producer.connect();
    const first = producer.publish('signals', 'c1', signal);
    await new Promise((r) => setImmediate(r));
    // Queued while the first request hangs: same stream (fails with it), another stream (kept).
    const sameStream = producer.publish('signals', 'c1', signal);
    const otherStream = producer.publish('signals', 'c2', signal);
    await expect(first).rejects.toBeInstanceOf(ProducerStalledError);
    await expect(sameStream).rejects.toBeInstanceOf(ProducerStalledError);
    await expect(otherStream).resolves.toBeUndefined();
    expect(isKafkaOutage(new ProducerStalledError(50))).toBe(true);
    expect(stuck).toEqual({ disconnected: true, sent: 1 });
    expect(sent.map((r) => r.map((x) => x.key))).toEqual([['c2']]);
    // The stream is open again once its callers have heard (the next turn), on the new client.
    await new Promise((r) => setImmediate(r));
    await expect(producer.publish('signals', 'c1', signal)).resolves.toBeUndefined();
    expect(sent.map((r) => r.map((x) => x.key))).toEqual([['c2'], ['c1']]);
  });

  it('without a way to make a new client, keeps failing stalled requests instead of waiting forever', async () => {
    const { sender } = stuckSender();
    const producer = new BatchProducer(sender, config, { stallMs: 30 });
    await producer.connect();
    await expect(producer.publish('signals', 'c1', signal)).rejects.toBeInstanceOf(ProducerStalledError);
    await expect(producer.publish('signals', 'c1', signal)).rejects.toBeInstanceOf(ProducerStalledError);
  });
});
