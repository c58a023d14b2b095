import { INestApplication, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig, ConfigError, loadConfig } from '@im/config';
import { JsonLogger } from './json-logger';

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug'];

/**
 * Starts one service: validates configuration first (a bad setting stops the process with
 * a clear message), listens on its HTTP port, and shuts down cleanly on SIGTERM/SIGINT.
 */
export async function bootstrapService(
  name: string,
  rootModule: unknown,
  portOf: (config: AppConfig) => number,
  afterCreate?: (app: INestApplication, config: AppConfig) => void | Promise<void>,
): Promise<INestApplication> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`[${name}] ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const levels = LEVELS.slice(0, LEVELS.indexOf(config.LOG_LEVEL) + 1);
  const json = (config.LOG_FORMAT ?? (config.NODE_ENV === 'production' ? 'json' : 'text')) === 'json';
  const logger = json ? new JsonLogger(name, config.INSTANCE_ID, levels) : levels;
  const app = await NestFactory.create(rootModule as never, { logger, bufferLogs: false });
  // Exit 0 after the hooks ran: consumers stopped, work finished, offsets committed, disconnected.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => new Logger(name).log(`${signal}: shutting down`));
  }
  await afterCreate?.(app, config);
  if (config.STOP_ON_STDIN_CLOSE === '1') {
    // The supervising process died (e.g. a killed test run): do not linger as an orphan.
    process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
    process.stdin.resume();
  }
  await app.listen(portOf(config), '0.0.0.0');
  new Logger(name).log(`${name} ${config.INSTANCE_ID} listening on :${portOf(config)}`);
  return app;
}
