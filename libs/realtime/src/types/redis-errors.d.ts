// redis-errors (ioredis's error classes) ships no types; these are the ones we classify by.
declare module 'redis-errors' {
  export class RedisError extends Error {}
  export class ReplyError extends RedisError {}
  export class ParserError extends RedisError {}
  export class AbortError extends RedisError {}
  export class InterruptError extends AbortError {}
}
