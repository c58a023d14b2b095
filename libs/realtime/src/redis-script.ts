import { createHash } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-client';

type ScriptArg = string | number;
type ScriptCall = (...args: ScriptArg[]) => Promise<unknown>;

/**
 * A Lua script sent by its hash. ioredis sends the text once per connection (and again after
 * a NOSCRIPT reply, e.g. when Redis restarted), then only `EVALSHA`: a hot script's text is
 * not written and hashed by Redis on every call.
 */
export class RedisScript {
  private readonly name: string;

  constructor(
    private readonly lua: string,
    /** Omitted for a script whose key count varies: each call then passes it first. */
    private readonly numberOfKeys?: number,
  ) {
    this.name = `im_${createHash('sha1').update(lua).digest('hex').slice(0, 16)}`;
  }

  /** Registers the script on a client; pipelines made from it afterwards can queue it. */
  define(redis: RedisClient): void {
    if (!(this.name in redis))
      redis.defineCommand(this.name, { lua: this.lua, numberOfKeys: this.numberOfKeys });
  }

  /** Runs the script: its keys first (after their count, if it varies), then its arguments. */
  run(redis: RedisClient, ...keysAndArgs: ScriptArg[]): Promise<unknown> {
    this.define(redis);
    return (redis as unknown as Record<string, ScriptCall>)[this.name](...keysAndArgs);
  }

  /** Queues the script on a pipeline (or `batchOf`) of a client it was defined on. */
  queue(pipeline: ChainableCommander, ...keysAndArgs: ScriptArg[]): void {
    const call = (pipeline as unknown as Record<string, ((...a: ScriptArg[]) => unknown) | undefined>)[
      this.name
    ];
    if (!call) throw new ScriptNotDefinedError(this.name);
    call.apply(pipeline, keysAndArgs);
  }
}

/** A pipeline was made from a client the script was not defined on first (a programming error). */
export class ScriptNotDefinedError extends Error {
  constructor(name: string) {
    super(`Redis script ${name} was not defined on this client before its pipeline was made`);
  }
}
