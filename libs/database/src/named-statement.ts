/**
 * A statement PostgreSQL prepares once per connection (parse and plan), then only binds and
 * executes: for the hot writes that run thousands of times a second with the same text.
 *
 * TypeORM's `query()` hands its first argument to pg unchanged, and pg takes a `{ name, text }`
 * config as well as a string, so the result goes where TypeORM expects the SQL text. Each name
 * must always carry the same text.
 */
export function namedStatement(name: string, text: string): string {
  return { name, text } as unknown as string;
}
