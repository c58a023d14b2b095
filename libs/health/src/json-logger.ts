import { LoggerService, LogLevel } from '@nestjs/common';
import { currentTraceId } from '@im/tracing';

/**
 * One JSON object per line, for log pipelines. A message may end with a JSON object of
 * fields (e.g. `{"messageId":…,"conversationId":…}`) that is lifted into the line itself.
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly service: string,
    private readonly instance: string,
    private readonly levels: LogLevel[],
  ) {}

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', 'log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', 'error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', 'warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', 'debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('debug', 'verbose', message, rest);
  }

  private write(level: string, nestLevel: LogLevel, message: unknown, rest: unknown[]) {
    if (!this.levels.includes(nestLevel)) return;
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const line: Record<string, unknown> = {
      ts: new Date().toISOString(),
      level,
      service: this.service,
      instance: this.instance,
    };
    if (context) line.context = context;
    // Written while a traced message's work runs: the line joins its trace in the tracing system.
    const traceId = currentTraceId();
    if (traceId) line.traceId = traceId;
    Object.assign(
      line,
      splitFields(message instanceof Error ? (message.stack ?? message.message) : String(message)),
    );
    if (rest.length > 0 && typeof rest[0] === 'string' && level === 'error') line.stack = rest[0];
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

/** "text {json}" → { msg: "text", ...json } when the tail parses as an object. */
export function splitFields(text: string): Record<string, unknown> {
  const brace = text.lastIndexOf(' {');
  if (brace > 0 && text.endsWith('}')) {
    try {
      const fields = JSON.parse(text.slice(brace + 1)) as unknown;
      if (fields && typeof fields === 'object' && !Array.isArray(fields))
        return { msg: text.slice(0, brace), ...fields };
    } catch {
      // not JSON: keep the whole text
    }
  }
  return { msg: text };
}
