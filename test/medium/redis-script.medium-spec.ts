import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisClient } from '@im/realtime';
import { createRedis, execAll, RedisScript, ScriptNotDefinedError } from '@im/realtime';

/**
 * Scripts go to a real Redis by hash: the text once per connection, then EVALSHA, and again
 * after Redis forgot its scripts. Keys get the client's prefix as with plain commands.
 */
describe('RedisScript (real RedisClient)', () => {
  const url = 'redis://127.0.0.1:6379';
  const prefix = `medium-script-${randomUUID().slice(0, 8)}:`;
  const clients: RedisClient[] = [];
  const client = (keyPrefix = prefix) => {
    const c = createRedis(url, keyPrefix);
    clients.push(c);
    return c;
  };
  // A script of its own (a unique comment): no other test shares its hash.
  const INCR_BY = new RedisScript(`-- ${prefix}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`, 1);
  const SUM = new RedisScript(
    `-- ${prefix}\nlocal s = 0 for i = 1, #KEYS do s = s + tonumber(redis.call('GET', KEYS[i]) or '0') end return s`,
  );

  afterAll(async () => {
    const plain = client('');
    const keys = await plain.keys(`${prefix}*`);
    if (keys.length > 0) await plain.del(...keys);
    await Promise.all(clients.map((c) => c.quit()));
  });

  /** The commands Redis ran while `work` ran, as MONITOR shows them. */
  async function monitored(work: () => Promise<void>): Promise<string[]> {
    // A single server's client: MONITOR is not a cluster command.
    const monitor = await (client() as Redis).monitor();
    const seen: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args.join(' ')));
    await work();
    await client().ping(); // MONITOR shows commands in order: once this is seen, the work's are too
    await new Promise((r) => setTimeout(r, 50));
    monitor.disconnect();
    return seen.filter((line) => line.includes(prefix));
  }

  it('sends the text once, then only the hash, in calls and pipelines alike', async () => {
    const redis = client();
    INCR_BY.define(redis);
    const seen = await monitored(async () => {
      expect(await INCR_BY.run(redis, 'n', 2)).toBe(2);
      expect(await INCR_BY.run(redis, 'n', 3)).toBe(5);
      const pipeline = redis.pipeline();
      INCR_BY.queue(pipeline, 'n', 4);
      INCR_BY.queue(pipeline, 'n', 5);
      expect(await execAll(pipeline)).toEqual([9, 14]);
    });
    const calls = seen.filter((l) => /^(eval|evalsha) /i.test(l)).map((l) => l.split(' ')[0].toLowerCase());
    expect(calls).toEqual(['eval', 'evalsha', 'evalsha', 'evalsha']);
    // The key got the client's prefix, like any other key of this client.
    const unprefixed = createRedis(url, '');
    clients.push(unprefixed);
    expect(await unprefixed.get(`${prefix}n`)).toBe('14');
  });

  it('recovers when Redis has forgotten the script (SCRIPT FLUSH, a restart)', async () => {
    const redis = client();
    INCR_BY.define(redis);
    expect(await INCR_BY.run(redis, 'm', 1)).toBe(1);
    await redis.script('FLUSH');
    expect(await INCR_BY.run(redis, 'm', 1)).toBe(2);
    await redis.script('FLUSH');
    const pipeline = redis.pipeline();
    INCR_BY.queue(pipeline, 'm', 1);
    expect(await execAll(pipeline)).toEqual([3]);
  });

  it('takes a varying number of keys, counted by the caller', async () => {
    const redis = client();
    await redis.mset('a', 1, 'b', 2, 'c', 3);
    expect(await SUM.run(redis, 3, 'a', 'b', 'c')).toBe(6);
    expect(await SUM.run(redis, 1, 'c')).toBe(3);
  });

  it('refuses a pipeline made before the script was defined on its client', () => {
    const fresh = new RedisScript(`-- ${prefix} fresh\nreturn 1`, 0);
    const pipeline = client().pipeline();
    expect(() => fresh.queue(pipeline)).toThrow(ScriptNotDefinedError);
  });
});
